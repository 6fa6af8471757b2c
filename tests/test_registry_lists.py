"""List pages: a fixed number of SQL statements whatever the number of rows; filters and pagination."""
from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import event, select

from cdt.extensions import db
from cdt.registry.models import Membership, Person
from tests.test_registry_helpers import COMMUNE_CODE, count, people_of, sample, unit


@contextlib.contextmanager
def counting(app):
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _statements(app, client, url) -> tuple[int, str]:
    with counting(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements), response.get_data(as_text=True)


def _rows(html: str, endpoint: str) -> int:
    return len(set(re.findall(rf'href="/{endpoint}/(\d+)"', html)))


@pytest.mark.parametrize("username", ["province", "commune"])
def test_team_list_runs_a_fixed_number_of_queries(app, login_as, username):
    client = login_as(username)
    client.get("/teams")  # warm-up (first request loads things once)
    small, html_small = _statements(app, client, "/teams?per_page=5")
    large, html_large = _statements(app, client, "/teams?per_page=60")
    assert _rows(html_small, "teams") == 5
    assert _rows(html_large, "teams") > 5
    assert small == large
    filtered, _ = _statements(app, client, "/teams?per_page=60&status=active&q=Th")
    assert filtered == large


@pytest.mark.parametrize("username", ["province", "commune"])
def test_member_list_runs_a_fixed_number_of_queries(app, login_as, username):
    client = login_as(username)
    client.get("/members")
    small, html_small = _statements(app, client, "/members?per_page=5")
    large, html_large = _statements(app, client, "/members?per_page=60")
    assert _rows(html_small, "members") == 5
    assert _rows(html_large, "members") > 30
    assert small == large
    filtered, html = _statements(app, client, "/members?per_page=60&youth_union=yes&trained=no&role=member")
    assert filtered == large


@pytest.mark.bare
def test_member_filters(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        people = people_of(COMMUNE_CODE)
        total = len(people)
        youth = sum(1 for p in people if p.youth_union)
        trained = sum(1 for p in people if p.first_trained_on)
        leaders = count(Membership, Membership.role == "leader", Membership.left_on.is_(None),
                        Membership.person_id.in_([p.id for p in people]))
        membership = db.session.scalar(select(Membership).join(Person).where(
            Person.commune_id == unit(COMMUNE_CODE).id).limit(1))
        team_id, village_id = membership.team_id, membership.team.village_id
        team_size = count(Membership, Membership.team_id == team_id, Membership.left_on.is_(None))

    def found(query: str) -> int:
        html = client.get("/members?" + query).get_data(as_text=True)
        return int(re.search(r"Số người tìm thấy: ([\d.]+)", html).group(1).replace(".", ""))

    assert found("") == total
    assert found("youth_union=yes") == youth
    assert found("youth_union=no") == total - youth
    assert found("trained=yes") == trained
    assert found("trained=no") == total - trained
    assert found("role=leader") == leaders
    assert found(f"team={team_id}") == team_size
    assert found(f"village={village_id}") == team_size
    assert found("page=999") == total  # error_out=False: an empty page, not a 404


@pytest.mark.bare
def test_search_by_name_without_diacritics_matches_any_word_start(app, login_as):
    with app.app_context():
        sample()
    client = login_as("province")
    with app.app_context():
        person = db.session.scalar(select(Person).where(Person.full_name.like("% % %")).order_by(Person.id).limit(1))
        name, search_name = person.full_name, person.search_name
        given = search_name.split()[-1]
        expected = count(Person, (Person.search_name.like(f"{given}%")) | (Person.search_name.like(f"% {given}%")))
    html = client.get("/members", query_string={"q": search_name, "per_page": 100}).get_data(as_text=True)
    assert name in html
    html = client.get("/members", query_string={"q": given}).get_data(as_text=True)
    assert f"Số người tìm thấy: {expected:,}".replace(",", ".") in html
    # The wildcard characters are searched literally.
    assert "Số người tìm thấy: 0" in client.get("/members?q=%25_%25").get_data(as_text=True)


@pytest.mark.bare
def test_name_search_keys_follow_registrations_and_edits(app, login_as):
    with app.app_context():
        sample()
    client = login_as("commune")
    with app.app_context():
        person = people_of(COMMUNE_CODE)[0]
        person_id, version, old_name = person.id, person.version_id, person.full_name
        form = {"full_name": "Sùng Seo Khánh Mới", "gender": person.gender, "birth_date": person.birth_date.isoformat(),
                "ethnicity": person.ethnicity, "phone": "", "position": "", "version_id": str(version)}
    assert client.post(f"/members/{person_id}/edit", data=form).status_code == 302

    def ids(q: str) -> set[str]:
        html = client.get("/members", query_string={"q": q, "per_page": 100}).get_data(as_text=True)
        return set(re.findall(r'href="/members/(\d+)"', html))

    assert str(person_id) in ids("sung seo khanh moi")
    assert str(person_id) in ids("khanh moi")  # from any word on
    assert str(person_id) in ids("Khánh M")
    assert str(person_id) not in ids("hanh moi")  # not from the middle of a word
    assert str(person_id) not in ids(old_name)


@pytest.mark.bare
def test_member_filters_fold_behind_one_button_with_the_count_in_use(app, login_as):
    """On a phone six filter fields came before the first person."""
    import re

    with app.app_context():
        sample()
    client = login_as("commune")
    page = client.get("/members").get_data(as_text=True)
    assert 'id="member-filters"' in page and 'data-bs-target="#member-filters"' in page
    assert 'id="active-filters"' not in page
    page = client.get("/members?role=leader&trained=no&q=a").get_data(as_text=True)
    assert re.search(r'id="active-filters">2<', page)  # the name search stays outside, always shown
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert form.index('id="f-q"') < form.index('id="member-filters"') < form.index('id="f-role"')
