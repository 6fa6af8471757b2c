"""The import writes its rows in bulk (cdt/registry/bulk.py, cdt/core/bulk.py) with team_stat
recounted once per team, not once per row (cdt/reports/stats.py insert_memberships): afterwards
team_stat equals what `flask cdt stats rebuild` computes, the triggers are in place and keep
working, and an import that fails half-way leaves nothing behind (not even dropped triggers).
SQLite and PostgreSQL (the PostgreSQL pass of `make test`)."""
from __future__ import annotations

import csv
import io
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text

from cdt.core.text import name_keys
from cdt.extensions import db
from cdt.registry.models import Membership, Person, PersonNameKey, Team
from cdt.registry.transfer import importing
from cdt.reports import stats
from cdt.reports.models import COLUMNS, TeamStat, _select, triggers_installed
from tests.conftest import POSTGRES
from tests.factories import current_members, gen_person, gen_team, gen_village, unit

pytestmark = pytest.mark.bare

HEADERS = ["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc", "Số điện thoại", "Đoàn viên", "Thôn, tổ dân phố",
           "Vai trò trong tổ"]
SYLLABLES = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nga"]


def stat_rows() -> dict[int, tuple]:
    return {r[0]: tuple(r) for r in db.session.execute(text(f"SELECT {COLUMNS} FROM team_stat"))}


def registry_of_three_teams():
    """Bản Phố: t1 (leader, deputy, member), t2 (leader, member), t3 (nobody yet)."""
    commune = unit("02866")
    t1 = gen_team(gen_village(commune), members=3)
    t2 = gen_team(gen_village(commune), members=2)
    t3 = gen_team(gen_village(commune))
    return commune, t1, t2, t3


def file_for(t1, t2, t3, new: int) -> bytes:
    """`new` new people over the three villages (every third a youth-union member), the leader of
    t3, t1's member joining t2 too, and t2's leader listed again in t2 (already there)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    villages = [t.village.code for t in (t1, t2, t3)]
    for n in range(new):
        name = f"Thử Khối {SYLLABLES[n // 100 % 10]} {SYLLABLES[n // 10 % 10]} {SYLLABLES[n % 10]}"
        writer.writerow([name, "Nữ" if n % 2 else "Nam", f"{1 + n % 28:02d}/{1 + n % 12:02d}/1991", "Kinh",
                         f"0336{n:06d}", "Có" if n % 3 == 0 else "", villages[n % 3], ""])
    writer.writerow(["Thử Khối Tổ Trưởng", "Nam", "02/02/1990", "Kinh", "0336999001", "", villages[2], "Tổ trưởng"])
    for person, village in ((current_members(t1, "member")[0].person, villages[1]),
                            (current_members(t2, "leader")[0].person, villages[1])):
        writer.writerow([person.full_name, "Nam" if person.gender == "male" else "Nữ",
                         person.birth_date.strftime("%d/%m/%Y"), "Kinh", "0" + person.phone[3:], "", village, ""])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def import_file(commune, data: bytes) -> dict:
    result = importing.prepare(commune, data, "csv")
    assert result.ok, [(r.number, r.errors) for r in result.rows if r.errors][:3]
    return importing.commit(result, filename="khoi.csv", via="cli")


def test_bulk_import_leaves_team_stat_as_stats_rebuild_computes_it(app, runner):
    with app.test_request_context("/"):
        commune, t1, t2, t3 = registry_of_three_teams()
        joiner = current_members(t1, "member")[0].person_id
        ids = (t1.id, t2.id, t3.id)
        before = db.session.scalar(select(func.count()).select_from(Person))
        counts = import_file(commune, file_for(t1, t2, t3, 300))
        assert counts == {"rows": 303, "created": 301, "joined": 1, "present": 1}
        db.session.remove()

        # What the import left, against an independent recount of the same rows.
        assert db.session.scalar(select(func.count()).select_from(Person)) == before + 301
        kept = stat_rows()
        s1, s2, s3 = (db.session.get(TeamStat, i) for i in ids)
        assert (s1.members, s2.members, s3.members) == (3 + 100, 2 + 100 + 1, 100 + 1)
        assert s1.youth + s2.youth + s3.youth == 100  # rows 0, 3, ..., 297
        assert s3.has_leader and s1.shared == 1 and s2.shared == 1  # t1's member now in both t1 and t2
        assert triggers_installed(db.session.connection())
        # The new people's name keys are there (name search finds them).
        last = db.session.scalar(select(Person).where(Person.full_name == "Thử Khối Tổ Trưởng"))
        assert set(db.session.scalars(select(PersonNameKey.key).where(PersonNameKey.person_id == last.id))) == set(
            name_keys(last.search_name))
        db.session.commit()

    result = runner.invoke(args=["cdt", "stats", "rebuild"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert stat_rows() == kept  # the rebuild changed nothing: the import left team_stat exact
        # The triggers still work after the import: one more member of t3, counted at once.
        gen_person(team=db.session.get(Team, ids[2]))
        assert db.session.get(TeamStat, ids[2]).members == 102
        assert db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.person_id == joiner, Membership.left_on.is_(None))) == 2


def test_import_failing_after_its_inserts_leaves_nothing(app, monkeypatch):
    """The statement after the bulk inserts fails (as a crash would stop it): the transaction rolls
    back whole, the triggers (dropped for it on SQLite) are still installed, team_stat unchanged."""
    real = stats.insert_rows

    def insert_then_fail(table, rows, **kw):
        ids = real(table, rows, **kw)
        if table.name == "membership":
            raise RuntimeError("simulated crash after the memberships")
        return ids

    with app.test_request_context("/"):
        commune, t1, t2, t3 = registry_of_three_teams()
        people = db.session.scalar(select(func.count()).select_from(Person))
        keys = db.session.scalar(select(func.count()).select_from(PersonNameKey))
        kept = stat_rows()
        t2_id = t2.id
        data = file_for(t1, t2, t3, 30)
        monkeypatch.setattr(stats, "insert_rows", insert_then_fail)
        with pytest.raises(RuntimeError):
            import_file(commune, data)
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Person)) == people
        assert db.session.scalar(select(func.count()).select_from(PersonNameKey)) == keys
        assert triggers_installed(db.session.connection())
        assert stat_rows() == kept
        monkeypatch.undo()
        db.session.commit()
        # The same file then imports whole, with the figures right.
        assert import_file(unit("02866"), data)["created"] == 31
        db.session.remove()
        assert db.session.get(TeamStat, t2_id).members == 2 + 10 + 1


@pytest.mark.skipif(not POSTGRES, reason="concurrent transactions: the PostgreSQL pass (CDT_TEST_POSTGRES=1)")
def test_member_added_by_another_transaction_during_a_bulk_import_is_counted(app, database_url):
    """Another connection adds a member to t1 and holds its transaction open while the import of
    the same teams starts: the import waits for it (row locks, as every writer takes them), and
    team_stat afterwards counts both, exactly."""
    with app.test_request_context("/"):
        commune, t1, t2, t3 = registry_of_three_teams()
        outsider = gen_person(commune)  # registered, in no team yet
        result = importing.prepare(commune, file_for(t1, t2, t3, 60), "csv")
        assert result.ok
        t1_id, outsider_id = t1.id, outsider.id
        db.session.commit()

        engine = create_engine(database_url)
        inserted = threading.Event()

        def other_writer():
            with engine.connect() as conn, conn.begin():
                conn.execute(text("INSERT INTO membership (person_id, team_id, role, joined_on, created_at) "
                                  "VALUES (:p, :t, 'member', CURRENT_DATE, now())"), {"p": outsider_id, "t": t1_id})
                inserted.set()  # its trigger holds t1's team_stat row until this commits
                time.sleep(1.0)  # the import meanwhile waits for that row
            engine.dispose()

        thread = threading.Thread(target=other_writer)
        thread.start()
        assert inserted.wait(10)
        started = time.monotonic()
        counts = importing.commit(result, filename="khoi.csv", via="cli")
        waited = time.monotonic() - started
        thread.join(10)
        assert counts["created"] == 61 and waited > 0.5  # it did wait for the other transaction
        db.session.remove()
        assert db.session.get(TeamStat, t1_id).members == 3 + 20 + 1
        recounted = {tuple(r)[0]: tuple(r) for r in db.session.execute(text(_select("1 = 1", "postgresql")))}
        assert stat_rows() == recounted
