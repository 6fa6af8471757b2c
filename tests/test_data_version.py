"""Figures kept per data version (cdt/core/data_version.py): a report asked twice with no change
in between is not computed twice, and any change to the data through the application, committed,
shows in the very next report, whatever path wrote it (services, Core statements, a raw
connection, the pages). Writes no figure reads (log-ins, the audit trail) keep the figures."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import delete, event, text, update

from cdt.core import data_version
from cdt.core.data_version import DataVersion, writes_figures
from cdt.extensions import db
from cdt.registry.models import Team
from cdt.reports import queries
from tests.factories import create_user, gen_person, gen_team, gen_village, unit

NEW_BAC_HA = "02839"  # today's Xã Bắc Hà (new Lào Cai, 15)


class Statements:
    """Counts the SELECTs the database is sent."""

    def __init__(self):
        self.selects = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.selects += 1

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self)


def members_of(code: str) -> int:
    return queries.summary(unit(code)).members


@pytest.mark.bare
def test_a_report_asked_again_is_not_computed_again(app):
    with app.app_context():
        gen_team(gen_village(unit(NEW_BAC_HA)), members=2)
        db.session.commit()
        assert members_of(NEW_BAC_HA) == 2
        with Statements() as first:
            rows = queries.coverage(unit("15"), "commune")
        with Statements() as again:
            assert queries.coverage(unit("15"), "commune") == rows
        assert first.selects > again.selects
        # the unit lookup only: no aggregate (the data version is read once a transaction)
        assert again.selects == 1
        # A caller changing a row it got does not change what the next caller gets.
        rows[0].members = 10 ** 6
        assert queries.coverage(unit("15"), "commune")[0].members != 10 ** 6


@pytest.mark.bare
def test_every_committed_change_shows_in_the_next_report(app):
    with app.app_context():
        village = gen_village(unit(NEW_BAC_HA))
        team = gen_team(village, members=2)
        assert members_of(NEW_BAC_HA) == 2
        gen_person(team=team)  # through the services
        assert members_of(NEW_BAC_HA) == 3
        # A Core UPDATE: the team dissolved (its members are no longer counted).
        db.session.execute(update(Team).where(Team.id == team.id).values(status="dissolved",
                                                                            dissolved_on=queries.today()))
        db.session.commit()
        assert members_of(NEW_BAC_HA) == 0
        # A raw connection of the application's engine, outside the ORM session.
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE team SET status = 'active', dissolved_on = NULL WHERE id = :id"),
                         {"id": team.id})
        db.session.rollback()
        assert members_of(NEW_BAC_HA) == 3
        # Deleting rows.
        db.session.execute(delete(Team).where(Team.id == -1))  # nothing deleted: still a write statement
        db.session.commit()
        assert members_of(NEW_BAC_HA) == 3


@pytest.mark.bare
def test_a_transaction_sees_its_own_uncommitted_change_and_a_rollback_restores(app):
    with app.app_context():
        team = gen_team(gen_village(unit(NEW_BAC_HA)), members=2)
        assert members_of(NEW_BAC_HA) == 2
        before = data_version.token()
        db.session.execute(update(Team).where(Team.id == team.id).values(status="dissolved",
                                                                            dissolved_on=queries.today()))
        db.session.flush()
        assert members_of(NEW_BAC_HA) == 0  # the transaction's own figures, not the kept ones
        db.session.rollback()
        assert data_version.token() == before
        assert members_of(NEW_BAC_HA) == 2


@pytest.mark.bare
def test_log_in_and_audited_reads_leave_the_figures_kept(app, client, login_as):
    with app.app_context():
        person_id = gen_person(team=gen_team(gen_village(unit(NEW_BAC_HA)), members=1)).id
        officer = create_user("commune_officer", unit(NEW_BAC_HA)).username
        before = data_version.token()
    login_as(officer)  # writes the account (last log-in) and the audit trail
    assert client.get(f"/members/{person_id}").status_code == 200  # an audited view of a person
    with app.app_context():
        assert data_version.token() == before


@pytest.mark.bare
def test_pages_and_exports_show_a_registration_at_once(app, client, login_as):
    with app.app_context():
        team = gen_team(gen_village(unit(NEW_BAC_HA)), members=2)
        team_id = team.id
        staff = create_user("province_staff", unit("15")).username
    login_as(staff)

    def members_in_csv() -> int:
        response = client.get("/reports/coverage.csv?unit=15&by=commune")
        assert response.status_code == 200
        rows = {r["code"]: r for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}
        return int(rows[NEW_BAC_HA]["members"])

    assert members_in_csv() == 2
    assert client.get("/reports/coverage?unit=15&by=commune").status_code == 200
    with app.app_context():
        gen_person(team=db.session.get(Team, team_id))
    assert members_in_csv() == 3


@pytest.mark.bare
def test_without_the_version_row_nothing_is_kept(app):
    with app.app_context():
        team = gen_team(gen_village(unit(NEW_BAC_HA)), members=2)
        db.session.execute(delete(DataVersion))
        db.session.commit()
        assert data_version.token() is None
        assert members_of(NEW_BAC_HA) == 2
        with Statements() as again:
            assert members_of(NEW_BAC_HA) == 2
        assert again.selects > 1  # computed
        # A change still commits (the version update finds no row) and shows.
        gen_person(team=team)
        assert members_of(NEW_BAC_HA) == 3


@pytest.mark.bare
def test_the_cache_can_be_turned_off(app):
    app.extensions["cdt_result_cache"].seconds = 0  # CDT_RESULT_CACHE_SECONDS=0
    with app.app_context():
        gen_team(gen_village(unit(NEW_BAC_HA)), members=1)
        members_of(NEW_BAC_HA)
        with Statements() as again:
            members_of(NEW_BAC_HA)
        assert again.selects > 1


@pytest.mark.bare
def test_new_accounts_do_not_change_the_figures(app):
    with app.app_context():
        before = data_version.token()
        create_user("commune_officer", unit(NEW_BAC_HA))
        assert data_version.token() == before


@pytest.mark.parametrize(("statement", "changes"), [
    ("SELECT * FROM team", False),
    ("  select count(*) from membership", False),
    ("WITH t AS (SELECT 1) SELECT * FROM t", False),
    ("WITH moved AS (UPDATE team SET status = 'x' RETURNING id) SELECT * FROM moved", True),
    ("INSERT INTO membership (team_id) VALUES (1)", True),
    ('INSERT INTO "person" (id) VALUES (1)', True),
    ("INSERT OR IGNORE INTO team_stat VALUES (1)", True),
    ("UPDATE person SET youth_union = 1", True),
    ("DELETE FROM team WHERE id = 1", True),
    ("INSERT INTO audit_event (action) VALUES ('x')", False),
    ("UPDATE user_account SET last_login_at = NULL", False),
    ("UPDATE data_version SET token = 'x'", False),
    ("SAVEPOINT sa_savepoint_1", False),
    ("PRAGMA foreign_keys", False),
    ("CREATE TABLE x (id int)", True),
])
def test_which_statements_change_the_figures(statement, changes):
    assert writes_figures(statement) is changes


@pytest.mark.bare
def test_keeping_is_set_from_the_environment(monkeypatch, database_url):
    from cdt import create_app
    from tests.conftest import BASE_CONFIG

    monkeypatch.setenv("CDT_RESULT_CACHE_SECONDS", "0")
    assert create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url}).extensions[
        "cdt_result_cache"].seconds == 0
    monkeypatch.setenv("CDT_RESULT_CACHE_SECONDS", "soon")
    with pytest.raises(ValueError, match="CDT_RESULT_CACHE_SECONDS"):
        create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})


@pytest.mark.bare
def test_kept_pages_follow_each_users_own_area(app, client, login_as):
    """/reports/coverage without `unit=` is each user's own area: a page kept for one user is never
    shown to another whose area differs (the admin: all provinces)."""
    with app.app_context():
        gen_team(gen_village(unit(NEW_BAC_HA)), members=2)
        province = create_user("province_staff", unit("15")).username
        officer = create_user("commune_officer", unit(NEW_BAC_HA)).username

    def heading(username: str) -> str:
        login_as(username)
        page = client.get("/reports/coverage")
        assert page.status_code == 200
        client.post("/logout")
        return page.get_data(as_text=True).split("<h1", 1)[1].split("</h1>", 1)[0]

    assert "Tỉnh Lào Cai" in heading(province)
    assert "Xã Bắc Hà" in heading(officer)
    assert "Tỉnh Lào Cai" not in heading(officer)
    assert "Tỉnh Lào Cai" in heading(province)
    assert "Tất cả các tỉnh" in heading("admin")


@pytest.mark.bare
def test_a_connection_in_autocommit_mode_changes_the_token_too(app, database_url):
    from sqlalchemy import create_engine

    with app.app_context():
        before = data_version.token()
        db.session.rollback()
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE team SET name = name WHERE id = -1"))
        with engine.begin() as conn:  # a statement on a database without the table is no error
            conn.execute(text("CREATE TABLE scratch_no_figures (id INTEGER)"))
            conn.execute(text("DROP TABLE scratch_no_figures"))
    finally:
        engine.dispose()
    with app.app_context():
        assert data_version.token() != before
