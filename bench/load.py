"""Load test of the production server: gunicorn with deploy/gunicorn.conf.py (as `make serve`),
4 workers, on the national demo (~81,000 teams, ~405,000 people), driven from 127.0.0.1 by a
bounded pool of client threads (stdlib http.client; each client keeps its own session cookie).

Pages, one after the other, each for --duration seconds with --clients concurrent clients:

- floor:     GET /login: the trivial page (the whole Flask stack, a template and a session, no
             query): what every page pays before its own work;
- healthz:   GET /healthz (no template, no session, no database): the process alone;
- dashboard: GET the page `/` leads to, as province staff (the province's unit page);
- members:   GET /members?q=nguyen van, as province staff (name search in a province);
- coverage:  GET /reports/coverage, as the admin (the nation by province; at national scale the
             admin is the account that sees the nation, province staff see one province);
- register:  POST /members/new, as the commune officer (a new person in a team of Bản Phố; the
             CSRF token read from the form once per client). Every reply must be the redirect to
             the new person; afterwards the people created are counted in the database and must
             equal the successful requests (nothing lost, no "database is locked").

Prints requests/s, p50/p95/p99 (ms), errors and each page's throughput as a share of the floor.
SQLite always (the national data set built once into bench/results/, gitignored, copied per
run); PostgreSQL too when --postgres (or TEST_DATABASE_URL) is given (database
`cdt_bench_load` on that server, built once and kept). Production mode (CDT_ENV=production,
the limiter on Redis) when a Redis answers at --redis, else the same server in development mode.

    .venv/bin/python bench/load.py                               # 16 clients, 30 s per page
    .venv/bin/python bench/load.py --duration 5 --clients 8      # a quick run
    .venv/bin/python bench/load.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Targets (issue 14): 0 errors; coverage >= 50% of the floor; on SQLite with 4 workers the writes
lose nothing and never answer "database is locked".
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
PY = Path(sys.executable)
GUNICORN = PY.with_name("gunicorn")
SEARCH = "nguyen van"

from cdt.demo import DEMO_PASSWORD as PASSWORD  # noqa: E402

# --------------------------------------------------------------------------- HTTP


@dataclass
class Client:
    """One browser: its cookies; a new connection per request (gunicorn's sync workers close it)."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
                ) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            all_headers = dict(headers or {})
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers), data
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, dict, bytes]:
        return self.request("GET", path)

    def post(self, path: str, data: dict) -> tuple[int, dict, bytes]:
        body = urllib.parse.urlencode(data).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def csrf(self, path: str) -> tuple[str, str]:
        status, _h, body = self.get(path)
        html = body.decode("utf-8", "replace")
        match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
        if status != 200 or not match:
            raise RuntimeError(f"no form at {path} (status {status})")
        return match.group(1), html

    def login(self, username: str) -> None:
        token, _html = self.csrf("/login")
        status, headers, _b = self.post("/login", {"csrf_token": token, "username": username, "password": PASSWORD})
        if status != 302:
            raise RuntimeError(f"log-in as {username} failed: {status}")


# --------------------------------------------------------------------------- data sets


def flask(env: dict, *args: str) -> None:
    subprocess.run([str(PY), "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True)


def national_sqlite() -> Path:
    """The national demo in SQLite, built once (flask db upgrade + flask cdt demo --scale national)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "load_national.sqlite3"
    if not path.exists():
        partial = RESULTS / "load_national.partial.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{partial}"}
        print(f"building the national demo into {path} (a minute or more) ...", flush=True)
        flask(env, "db", "upgrade")
        flask(env, "cdt", "demo", "--scale", "national")
        import sqlite3

        con = sqlite3.connect(partial)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        partial.rename(path)
    return path


def sqlite_copy(source: Path) -> str:
    work = RESULTS / "load_run.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, work)
    os.chmod(work, 0o600)
    return f"sqlite:///{work}"


def national_postgres(admin_url: str, name: str = "cdt_bench_load") -> str:
    """Database `name` on the server of `admin_url` with the national demo (built when missing)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(admin_url).set(drivername="postgresql+psycopg")
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
    ready = False
    if exists:
        target = create_engine(url)
        try:
            with target.connect() as conn:
                ready = conn.execute(text("SELECT count(*) FROM person")).scalar() > 100_000
        except Exception:
            ready = False
        target.dispose()
    if not ready:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        print(f"building the national demo into PostgreSQL database {name} (a few minutes) ...", flush=True)
        env = {**os.environ, "DATABASE_URL": url}
        flask(env, "db", "upgrade")
        flask(env, "cdt", "demo", "--scale", "national")
    engine.dispose()
    return url


def count_people(url: str, prefix: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM person WHERE full_name LIKE :p"), {"p": f"{prefix}%"}).scalar()
    engine.dispose()
    return found


def redis_up(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, database_url: str, workers: int, redis_url: str | None, folder: Path):
        self.port = free_port()
        self.log = folder / f"gunicorn-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CDT_", "RATELIMIT_", "REDIS_"))}
        env.update({"DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(48),
                    "CDT_IMPORT_FOLDER": str(folder / "imports"), "WEB_CONCURRENCY": str(workers),
                    "CDT_ENV": "production" if redis_url else "development", "GUNICORN_LOGLEVEL": "warning"})
        if redis_url:
            env["REDIS_URL"] = redis_url
        # The citizen-ID keys the national demo was encrypted with: the environment's, else this
        # checkout's development keys (instance/), as `flask cdt demo` used when building it.
        from cdt.config import citizen_id_keys

        env.update(citizen_id_keys(str(ROOT / "instance")))
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--config", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
                 "--access-logfile", "/dev/null", "app:app"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                if Client("127.0.0.1", self.port).get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gunicorn did not answer in 120 s")
            time.sleep(0.2)
        time.sleep(2)  # every worker up, not only the first one

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------- load


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, ok: bool, what: str) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if not ok:
                self.errors += 1
                if len(self.examples) < 3:
                    self.examples.append(what)


def drive(clients: list[Client], work, duration: float) -> tuple[Outcome, float]:
    """Every client runs `work(client, n)` in a loop for `duration` seconds."""
    outcome = Outcome()
    counter = itertools.count()
    stop_at = time.monotonic() + duration

    def loop(client: Client) -> None:
        while time.monotonic() < stop_at:
            n = next(counter)
            started = time.perf_counter()
            try:
                ok, what = work(client, n)
            except OSError as error:
                ok, what = False, f"{type(error).__name__}: {error}"
            outcome.add(time.perf_counter() - started, ok, what)

    threads = [threading.Thread(target=loop, args=(c,)) for c in clients]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome, time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def expect(status: int, wanted: int, body: bytes) -> tuple[bool, str]:
    if status == wanted:
        return True, ""
    text = body.decode("utf-8", "replace")
    locked = " (database is locked)" if "locked" in text else ""
    return False, f"status {status}{locked}"


def run_database(label: str, url: str, args, redis_url: str | None) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="cdt-load-"))
    server = Server(url, args.workers, redis_url, folder)
    rows = []
    try:
        host, port = "127.0.0.1", server.port

        def logged_in(username: str) -> list[Client]:
            clients = []
            for _ in range(args.clients):
                client = Client(host, port)
                client.login(username)
                clients.append(client)
            return clients

        province = logged_in("province")
        status, headers, _b = province[0].get("/")
        dashboard = urllib.parse.urlsplit(headers.get("Location", "/")).path if status == 302 else "/"
        admin = logged_in("admin")
        commune = logged_in("commune")
        forms = {}
        for client in commune:
            token, html = client.csrf("/members/new")
            team = re.search(r'<select[^>]*name="team_id"[^>]*>.*?<option[^>]*value="(\d+)"', html, re.S)
            if not team:
                raise RuntimeError("no team to choose on /members/new")
            forms[id(client)] = (token, team.group(1))
        tag = f"Tải {secrets.token_hex(3)}"

        def page(path: str):
            def work(client: Client, _n: int):
                status, _h, body = client.get(path)
                return expect(status, 200, body)
            return work

        def register(client: Client, n: int):
            token, team = forms[id(client)]
            data = {"csrf_token": token, "full_name": f"{tag} Thị {n:05d}", "gender": "female",
                    "birth_date": f"{1 + n % 28:02d}/{1 + n % 12:02d}/{1975 + n % 30}", "ethnicity": "kinh",
                    "phone": "",  # optional; the name (with the run's tag) and birth date keep people apart
                    "team_id": team, "role": "member", "position": ""}
            status, headers, body = client.post("/members/new", data)
            ok = status == 302 and "/members/" in headers.get("Location", "")
            return (True, "") if ok else expect(status, 302, body)

        anonymous = [Client(host, port) for _ in range(args.clients)]
        plan = [("floor", "GET /login (the floor: a template, a session, no query)", anonymous, page("/login")),
                ("healthz", "GET /healthz (no template, no database)", anonymous, page("/healthz")),
                ("dashboard", f"GET {dashboard} (province)", province, page(dashboard)),
                ("members", f"GET /members?q={SEARCH} (province)", province,
                 page("/members?" + urllib.parse.urlencode({"q": SEARCH}))),
                ("coverage", "GET /reports/coverage (admin: nation by province)", admin, page("/reports/coverage")),
                ("register", "POST /members/new (commune)", commune, register)]
        floor = None
        for name, what, clients, work in plan:
            outcome, seconds = drive(clients, work, args.duration)
            rate = len(outcome.latencies) / seconds
            floor = floor or rate
            row = {"db": label, "page": name, "what": what, "requests": len(outcome.latencies), "rate": rate,
                   "p50": percentile(outcome.latencies, 50) * 1000, "p95": percentile(outcome.latencies, 95) * 1000,
                   "p99": percentile(outcome.latencies, 99) * 1000, "errors": outcome.errors, "ratio": rate / floor,
                   "examples": outcome.examples}
            if name == "register":
                created = count_people(url, tag)
                row["created"] = created
                row["lost"] = (len(outcome.latencies) - outcome.errors) - created
            rows.append(row)
            print(f"{label:<10} {name:<10} {row['requests']:>6} req  {rate:7.1f}/s  p50 {row['p50']:6.0f} ms  "
                  f"p95 {row['p95']:6.0f} ms  p99 {row['p99']:6.0f} ms  errors {outcome.errors}  "
                  f"{row['ratio']:.0%} of floor"
                  + (f"  created {row['created']} (lost {row['lost']})" if name == "register" else "")
                  + (f"  e.g. {outcome.examples}" if outcome.examples else ""), flush=True)
        log = server.log.read_text(errors="replace")
        if "database is locked" in log or "Traceback" in log:
            print(f"{label}: the server log has errors:\n{log[-2000:]}")
            rows[-1]["log_errors"] = True
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=30, help="seconds per page (default 30)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL server URL (default TEST_DATABASE_URL); database cdt_bench_load on it")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--redis", default=os.environ.get("CDT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13"),
                        help="Redis for the limiter (production mode) when it answers")
    args = parser.parse_args()
    if args.clients < 1 or args.clients > 64 or args.duration <= 0 or args.duration > 600:
        sys.exit("--clients 1..64, --duration up to 600 s")

    redis_url = args.redis if args.redis and redis_up(args.redis) else None
    print(f"{args.clients} clients, {args.duration:g} s per page, {args.workers} gunicorn workers, "
          f"{'production mode (Redis)' if redis_url else 'development mode (no Redis)'}, {os.cpu_count()} CPUs",
          flush=True)
    rows: list[dict] = []
    if not args.no_sqlite:
        rows += run_database("SQLite", sqlite_copy(national_sqlite()), args, redis_url)
    if args.postgres:
        rows += run_database("PostgreSQL", national_postgres(args.postgres), args, redis_url)

    print()
    print("| database | page | requests/s | p50 ms | p95 ms | p99 ms | errors | share of floor |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        extra = f" (created {r['created']}, lost {r['lost']})" if "created" in r else ""
        print(f"| {r['db']} | {r['what']}{extra} | {r['rate']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
              f"{r['errors']} | {r['ratio']:.0%} |")
    print(f"\ncommand: .venv/bin/python bench/load.py --duration {args.duration:g} --clients {args.clients}"
          + (" --postgres URL" if args.postgres else ""))
    failed = [r for r in rows if r["errors"] or r.get("lost") or r.get("log_errors")
              or (r["page"] == "coverage" and r["ratio"] < 0.5)]
    if failed:
        print("targets missed: " + ", ".join(f"{r['db']} {r['page']}" for r in failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
