"""The lists lead to import and export with the current filters; a person's page shows their training."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from cdt.extensions import db
from cdt.registry.models import Person
from cdt.training.models import Attendance
from tests.test_registry_helpers import sample


@pytest.mark.bare
def test_members_page_links_to_import_and_filtered_exports(app, client, login_as):
    with app.app_context():
        sample()
    login_as("commune")
    page = client.get("/members?youth_union=yes&page=2").get_data(as_text=True)
    assert 'href="/members/import"' in page
    assert 'href="/members/export.csv?youth_union=yes"' in page
    assert 'href="/members/export.xlsx?youth_union=yes"' in page
    response = client.get("/members/export.csv?youth_union=yes")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and {r["youth_union"] for r in rows} == {"1"}


@pytest.mark.bare
def test_readers_get_exports_but_no_import_link(client, login_as):
    login_as("district")
    page = client.get("/members").get_data(as_text=True)
    assert "/members/import" not in page
    assert 'href="/members/export.csv"' in page
    teams = client.get("/teams").get_data(as_text=True)
    assert 'href="/teams/export.csv"' in teams and 'href="/teams/export.xlsx"' in teams


@pytest.mark.bare
def test_person_page_shows_training_history_with_total_hours(app, client, login_as):
    with app.app_context():
        sample()
        person_id = db.session.scalar(
            select(Person.id).join(Attendance, Attendance.person_id == Person.id)
            .where(Person.first_trained_on.is_not(None)).order_by(Person.id).limit(1)
        )
    login_as("admin")
    page = client.get(f"/members/{person_id}").get_data(as_text=True)
    assert "Tổng số giờ: 4,0" in page  # one held 4-hour session, in Vietnamese number format


@pytest.mark.parametrize("account", ["commune", "district", "province", "admin"])
def test_breadcrumbs_of_each_home_never_link_where_the_user_may_not_go(client, login_as, account):
    """The commune officer's /units/02866 linked to /units/10 and /units/085, which answer 404 to them."""
    import re

    login_as(account)
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    pages = [home.get_data(as_text=True)]
    for path in ("/units/02866", "/units/085", "/units/10"):
        response = client.get(path)
        if response.status_code == 200:
            pages.append(response.get_data(as_text=True))
    for html in pages:
        crumbs = re.search(r'<ol class="breadcrumb">(.*?)</ol>', html, re.S)
        for href in re.findall(r'href="([^"]+)"', crumbs.group(1) if crumbs else ""):
            assert client.get(href).status_code == 200, (account, href)
