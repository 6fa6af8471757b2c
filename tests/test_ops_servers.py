"""The registry under real gunicorn servers (deploy/gunicorn.conf.py, as `make serve` runs it).

- A worker killed with SIGKILL in the middle of an import confirmation leaves no half import
  (the import is one transaction): SQLite and PostgreSQL, whichever this run uses.
- Two app servers on different ports over one PostgreSQL database and one Redis (the
  PostgreSQL pass of `make test`, CDT_TEST_POSTGRES=1, with a Redis at CDT_TEST_REDIS_URL):
  a log-in on one works on the other, a log-out on one ends the session on both, the failed
  log-in throttle counts across both, an import previewed on one is confirmed on the other,
  and concurrent writes through both lose nothing.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from cdt.demo import DEMO_PASSWORD
from tests.conftest import POSTGRES
from tests.ops_support import Client, gunicorn, import_csv, redis_available, server_env

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _people_tagged(engine, tag: str) -> int:
    return _count(engine, "SELECT count(*) FROM person WHERE full_name LIKE :p", p=f"Thử {tag} %")


def _team_stat_matches_recount(engine) -> bool:
    """team_stat's member counts equal a plain recount of the current memberships."""
    sql = """
        SELECT count(*) FROM team_stat s
        WHERE s.members <> (SELECT count(DISTINCT m.person_id) FROM membership m
                            WHERE m.team_id = s.team_id AND m.left_on IS NULL)
    """
    return _count(engine, sql) == 0


def _write_in_progress(database_url: str, engine):
    """A callable telling whether another connection holds an open write transaction."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")

        def sqlite_busy() -> bool:
            con = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                con.close()
        return sqlite_busy

    def postgres_busy() -> bool:
        return _count(engine, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                              "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()") > 0
    return postgres_busy


def _preview(client: Client, **kw) -> str:
    reply = client.get("/members/import/preview", **kw)
    assert reply.status == 200, reply.text[:500]
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"', reply.text)
    assert token, "no confirm button: the file has errors"
    return token.group(1)


def _upload(client: Client, data: bytes, **kw) -> str:
    csrf = client.csrf("/members/import", **kw)
    reply = client.upload("/members/import", {"csrf_token": csrf}, "members.csv", data, **kw)
    assert reply.status == 302 and reply.location.endswith("/members/import/preview"), reply.text[:500]
    return _preview(client, **kw)


def _confirm(client: Client, token: str, **kw):
    csrf = client.csrf("/members/import/preview", **kw)
    return client.post("/members/import/confirm", {"csrf_token": csrf, "token": token}, **kw)


def test_sigkill_during_import_confirm_leaves_no_half_import(database_url, tmp_path):
    engine = create_engine(database_url)
    env = server_env(database_url, secret_key=secrets.token_urlsafe(48), redis_url=None,
                     import_folder=tmp_path / "imports")
    rows = 4000  # the import writes in bulk (a fraction of a second): a window wide enough to kill it in
    data = import_csv(rows, "Kill")
    people_before = _count(engine, "SELECT count(*) FROM person")
    busy = _write_in_progress(database_url, engine)
    try:
        with gunicorn(env, tmp_path) as server:
            client = Client(server.base)
            assert client.login("commune", DEMO_PASSWORD).status == 302
            token = _upload(client, data)
            (worker,) = server.workers()
            outcome: dict = {}

            def confirm():
                try:
                    outcome["reply"] = _confirm(client, token)
                except OSError as error:  # the connection dies with the worker
                    outcome["error"] = error

            thread = threading.Thread(target=confirm)
            thread.start()
            deadline = time.monotonic() + 60
            while not busy():  # the import's transaction has written rows, not committed them
                assert thread.is_alive(), f"the confirmation ended before it was caught writing: {outcome}"
                assert time.monotonic() < deadline
                time.sleep(0.002)
            os.kill(worker, signal.SIGKILL)
            thread.join(60)
            assert "error" in outcome or outcome["reply"].status >= 500, outcome

            # Nothing of the file was written, and the figures still add up.
            assert _people_tagged(engine, "Kill") == 0
            assert _count(engine, "SELECT count(*) FROM person") == people_before
            assert _count(engine, "SELECT count(*) FROM audit_event WHERE action = 'import'") == 0
            assert _team_stat_matches_recount(engine)

            # The master started a new worker; the same file, uploaded again, imports whole.
            deadline = time.monotonic() + 60
            while not [pid for pid in server.workers() if pid != worker]:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            client = Client(server.base)
            for _ in range(100):
                try:
                    if client.login("commune", DEMO_PASSWORD).status == 302:
                        break
                except OSError:
                    time.sleep(0.1)
            token = _upload(client, data)
            reply = _confirm(client, token)
            assert reply.status == 302, reply.text[:500]
            assert _people_tagged(engine, "Kill") == rows
            assert _team_stat_matches_recount(engine)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- two app servers

@pytest.fixture
def shared_redis():
    """One Redis database of the test Redis for this test alone (a random db 1-14), emptied after."""
    import random

    import redis

    from tests.ops_support import REDIS_URL

    if not POSTGRES:
        pytest.skip("two app servers share a PostgreSQL database: the PostgreSQL pass (CDT_TEST_POSTGRES=1) runs it")
    if not redis_available():
        pytest.skip(f"no Redis at {REDIS_URL}")
    base = REDIS_URL.rsplit("/", 1)[0]
    url = f"{base}/{random.randint(1, 14)}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def _member_form(client: Client, n: int, team_id: int, base: str) -> dict:
    return {"csrf_token": client.csrf("/members/new", base=base), "full_name": f"Thử Song Song {n:04d}",
            "gender": "female", "birth_date": f"{1 + n % 28:02d}/03/1991", "ethnicity": "kinh",
            "phone": f"0337{n:06d}", "team_id": str(team_id), "role": "member", "position": ""}


def test_two_servers_share_one_database_and_one_redis(database_url, shared_redis, tmp_path):
    engine = create_engine(database_url)
    env = server_env(database_url, secret_key=secrets.token_urlsafe(48), redis_url=shared_redis,
                     import_folder=tmp_path / "imports", workers=1)
    try:
        with gunicorn(env, tmp_path) as a, gunicorn(env, tmp_path) as b:
            for server in (a, b):
                ready = Client(server.base).get("/readyz")
                assert ready.status == 200 and '"redis":"ok"' in ready.text.replace(" ", ""), ready.text

            # A log-in on A works on B.
            browser = Client(a.base)
            assert browser.login("district", DEMO_PASSWORD).status == 302
            assert browser.get("/members", base=b.base).status == 200
            # A log-out on B ends the session everywhere: a copy of the old cookie fails on A too.
            stolen = dict(browser.cookies)
            csrf = browser.csrf("/members", base=b.base)
            assert browser.post("/logout", {"csrf_token": csrf}, base=b.base).status == 302
            for server in (a, b):
                reply = Client(server.base, dict(stolen)).get("/members")
                assert reply.status == 302 and "/login" in reply.location

            # An import previewed on A is confirmed on B.
            officer = Client(a.base)
            assert officer.login("commune", DEMO_PASSWORD).status == 302
            token = _upload(officer, import_csv(40, "Hai May"))
            reply = _confirm(officer, token, base=b.base)
            assert reply.status == 302, reply.text[:500]
            assert _people_tagged(engine, "Hai") == 40

            # Concurrent writes through both servers into the same team: nothing lost.
            # A team of the commune officer's commune on today's map (Xã Bắc Hà, 02839 since 2025-07-01).
            team_id = _count(engine, "SELECT min(t.id) FROM team t JOIN admin_unit c ON c.id = t.commune_id "
                                     "WHERE c.code = '02839' AND c.valid_to IS NULL")
            assert team_id is not None
            members_before = _count(engine, "SELECT members FROM team_stat WHERE team_id = :t", t=team_id)
            officers = {server.base: Client(server.base) for server in (a, b)}
            for client in officers.values():
                assert client.login("commune", DEMO_PASSWORD).status == 302
            statuses: list[int] = []

            def write(n: int):
                base = (a.base, b.base)[n % 2]
                client = Client(base, dict(officers[base].cookies))
                statuses.append(client.post("/members/new", _member_form(client, n, team_id, base)).status)

            threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert statuses == [302] * 16
            assert _count(engine, "SELECT count(*) FROM person WHERE full_name LIKE 'Thử Song Song %'") == 16
            assert _count(engine, "SELECT count(*) FROM membership m JOIN person p ON p.id = m.person_id "
                                  "WHERE p.full_name LIKE 'Thử Song Song %' AND m.team_id = :t", t=team_id) == 16
            assert _count(engine, "SELECT members FROM team_stat WHERE team_id = :t", t=team_id) == members_before + 16
            assert _team_stat_matches_recount(engine)

            # The failed log-in throttle counts across both servers (Redis): 3 failures on A and 2
            # on B, then even the right password is refused on either.
            intruder = Client(a.base)
            for n in range(5):
                reply = intruder.login("youth", "wrong password x", base=(a.base, b.base)[n % 2])
                assert reply.status == 200
            for server in (a, b):
                assert Client(server.base).login("youth", DEMO_PASSWORD).status == 429
    finally:
        engine.dispose()
