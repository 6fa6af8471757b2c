"""Helpers for the service tests (tests/test_ops_*.py): real gunicorn servers on free ports, a
small cookie-keeping HTTP client (stdlib only), a private redis-server, synthetic import files."""
from __future__ import annotations

import contextlib
import csv
import http.client
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from cdt.config import ROOT

GUNICORN = Path(sys.executable).with_name("gunicorn")
REDIS_URL = os.environ.get("CDT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_available(url: str = REDIS_URL) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


# --------------------------------------------------------------------------- gunicorn

@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """PIDs of the gunicorn workers (children of the master)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def server_env(database_url: str, *, secret_key: str, redis_url: str | None, import_folder: Path,
               workers: int = 1) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDT_", "RATELIMIT_", "REDIS_"))}
    env.update({
        "DATABASE_URL": database_url, "SECRET_KEY": secret_key, "CDT_IMPORT_FOLDER": str(import_folder),
        "WEB_CONCURRENCY": str(workers), "CDT_ENV": "production" if redis_url else "development",
        "PYTHONUNBUFFERED": "1",
    })
    if redis_url:
        env["REDIS_URL"] = redis_url
    # The citizen ID's keys (cdt/privacy/crypto.py; production needs them): the tests' fixed ones,
    # which encrypted the test databases.
    from tests.conftest import BASE_CONFIG

    env["CDT_CITIZEN_ID_KEY"] = BASE_CONFIG["CDT_CITIZEN_ID_KEY"]
    env["CDT_CITIZEN_ID_HASH_KEY"] = BASE_CONFIG["CDT_CITIZEN_ID_HASH_KEY"]
    return env


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log_dir: Path, timeout: float = 60):
    """A gunicorn started with deploy/gunicorn.conf.py (as `make serve` does) on a free port."""
    port = free_port()
    log = log_dir / f"gunicorn-{port}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "--config", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = Server(port, process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.output()[-3000:]}")
            try:
                if Client(server.base).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in {timeout} s:\n{server.output()[-3000:]}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --------------------------------------------------------------------------- HTTP client

@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Client:
    """One browser: its own cookies, sent to whichever server it talks to (like one domain
    behind a load balancer)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                base: str | None = None) -> Reply:
        url = urllib.parse.urlsplit(base or self.base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
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
                    if morsel["expires"] and "1970" in morsel["expires"] or morsel["max-age"] == "0":
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Reply(response.status, response.headers, data)
        finally:
            conn.close()

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict, **kw) -> Reply:
        body = urllib.parse.urlencode(data).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}, **kw)

    def csrf(self, path: str, **kw) -> str:
        html = self.get(path, **kw).text
        match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str, password: str, **kw) -> Reply:
        token = self.csrf("/login", **kw)
        return self.post("/login", {"csrf_token": token, "username": username, "password": password}, **kw)

    def upload(self, path: str, fields: dict, filename: str, data: bytes, **kw) -> Reply:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     "Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}, **kw)


# --------------------------------------------------------------------------- data

IMPORT_HEADERS = ["Họ và tên", "Giới tính", "Ngày sinh", "Dân tộc", "Số điện thoại", "Thôn, tổ dân phố"]
_SYLLABLES = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nga", "Oanh", "Phúc",
              "Quang", "Sơn", "Tâm", "Uyên", "Vinh", "Xuân", "Yến", "Đức"]


def synthetic_name(n: int, tag: str) -> str:
    """A unique invented name: 'Thử <tag> <three syllables from n>'."""
    a, b, c = n // 400 % 20, n // 20 % 20, n % 20
    return f"Thử {tag} {_SYLLABLES[a]} {_SYLLABLES[b]} {_SYLLABLES[c]}"


def import_csv(count: int, tag: str, first_phone: int = 0) -> bytes:
    """An import file of `count` new synthetic people for the villages of commune 02866."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(IMPORT_HEADERS)
    for n in range(count):
        writer.writerow([synthetic_name(n, tag), "Nữ" if n % 2 else "Nam", f"{1 + n % 28:02d}/{1 + n % 12:02d}/1990",
                         "Kinh", f"0336{first_phone + n:06d}", f"02866-{1 + n % 10:03d}"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def has_redis_server() -> bool:
    return shutil.which("redis-server") is not None


@contextlib.contextmanager
def private_redis(port: int | None = None):
    """A redis-server of our own (no persistence) that a test may stop and start again."""
    port = port or free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while not redis_available(url):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield process, url, port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
