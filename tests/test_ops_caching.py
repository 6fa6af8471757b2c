"""HTTP caching where it is safe: ETag and 304 on the calendar feed and the coverage CSV (a
change in the data changes the ETag), fingerprinted static assets cached for a year."""
from __future__ import annotations

import re

from sqlalchemy import select, text

from cdt.auth.models import User
from cdt.extensions import db
from cdt.training.models import TrainingSession
from tests.conftest import login
from tests.test_training import create

IMMUTABLE = "public, max-age=31536000, immutable"


def _revalidate(client, path, etag, **kw):
    return client.get(path, headers={"If-None-Match": etag}, **kw)


def test_calendar_feed_answers_304_until_a_session_changes(app, client):
    login(client, "youth")
    sid = create(client, app, title="Buổi có ETag")
    client.post("/training/calendar/renew")
    with app.app_context():
        token = db.session.scalar(select(User.calendar_token).where(User.username == "youth"))
    feed = app.test_client()  # a calendar app: no session
    path = f"/training/calendar.ics?token={token}"
    first = feed.get(path)
    assert first.status_code == 200 and "Buổi có ETag" in first.text
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert feed.get(path).headers["ETag"] == etag  # same data, same tag
    again = _revalidate(feed, path, etag)
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag

    with app.app_context():  # someone renames the session
        ts = db.session.get(TrainingSession, sid)
        ts.title = "Buổi đã đổi tên"
        db.session.commit()
    changed = _revalidate(feed, path, etag)
    assert changed.status_code == 200 and "Buổi đã đổi tên" in changed.text and changed.headers["ETag"] != etag
    with app.app_context():  # ... and deletes it: no row left to date the change, the tag still moves
        db.session.delete(db.session.get(TrainingSession, sid))
        db.session.commit()
    gone = _revalidate(feed, path, changed.headers["ETag"])
    assert gone.status_code == 200 and "Buổi đã đổi tên" not in gone.text
    # A wrong token is still 404, whatever the tag.
    assert _revalidate(feed, "/training/calendar.ics?token=wrong", etag).status_code == 404


def test_coverage_csv_answers_304_until_the_figures_change(app, login_as):
    client = login_as("district")
    path = "/reports/coverage.csv?unit=085&by=commune&map=2025-06-30"  # abolished district, on its map
    first = client.get(path)
    assert first.status_code == 200 and first.mimetype == "text/csv"
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert first.headers["Content-Disposition"].startswith("attachment;")
    assert _revalidate(client, path, etag).status_code == 304
    assert _revalidate(client, path.replace("commune", "village"), etag).status_code == 200  # other report

    with app.app_context():  # a member of Bắc Hà joins the youth union
        db.session.execute(text(
            "UPDATE person SET youth_union = NOT youth_union WHERE id = (SELECT min(m.person_id) FROM membership m "
            "JOIN team t ON t.id = m.team_id WHERE t.village_id IN (SELECT village_id FROM village_place "
            "WHERE district_id = (SELECT id FROM admin_unit WHERE code = '085')) "
            "AND m.left_on IS NULL)"))
        db.session.commit()
    changed = _revalidate(client, path, etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and changed.data != first.data


def test_pages_and_other_downloads_are_still_never_stored(login_as):
    client = login_as("district")
    for path in ("/reports/coverage?unit=085&map=2025-06-30", "/reports/coverage.xlsx?unit=085&map=2025-06-30",
                 "/members/export.csv"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "ETag" not in response.headers, path


def test_static_assets_are_fingerprinted_and_cached_for_a_year(client):
    html = client.get("/login").text
    links = re.findall(r'(?:href|src)="(/(?:bootstrap/)?static/[^"]+)"', html)
    assert len(links) >= 5
    assert all(re.search(r"\?v=[0-9a-f]{10}$", link) for link in links), links
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["Cache-Control"] == IMMUTABLE, link
        response.close()
    # An old fingerprint or none: the file is served but revalidated, never cached blindly.
    for link in ("/static/app.css?v=0000000000", "/static/app.css", "/bootstrap/static/css/bootstrap.min.css"):
        response = client.get(link)
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
        assert response.headers.get("Cache-Control") != "no-store"
        response.close()


def test_a_changed_asset_gets_a_new_fingerprint(app, tmp_path):
    from cdt.ops.caching import fingerprint

    app.static_folder = str(tmp_path)
    (tmp_path / "x.css").write_text("a{}")
    with app.test_request_context():
        before = fingerprint("static", "x.css")
        (tmp_path / "x.css").write_text("b{color:red}")
        after = fingerprint("static", "x.css")
        assert before != after and len(after) == 10
        assert fingerprint("static", "../etc/passwd") is None and fingerprint("static", "missing.css") is None
