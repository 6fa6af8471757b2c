"""Page weight: what a first visit (empty cache) transfers for the main pages, assets included.

Starts the real app (werkzeug, in a thread, on a free local port) on a fresh SQLite
database holding the Lào Cai demo, logs in through the real form, and for each page
fetches the HTML (following redirects, each counted) and every stylesheet, script and icon
it links, with `Accept-Encoding: gzip, deflate, br` as a browser sends. Bytes counted are
what crosses the wire: status line + headers + body as sent (compressed where the app
compresses: static CSS/JS/SVG; HTML is not compressed, see cdt/core/compression.py).

Budget: 150 KB (153,600 bytes) per page. Exit status 1 when a page is over.

Run:  .venv/bin/python bench/page_weight.py [--user commune] [--page /members ...]
"""
from __future__ import annotations

import argparse
import http.client
import re
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BUDGET = 150 * 1024
ACCEPT = {"Accept-Encoding": "gzip, deflate, br", "Accept-Language": "vi-VN,vi;q=0.9", "User-Agent": "page-weight"}
# (user, page): the dashboard, a list page and a form of the commune officer, and the
# province's dashboard and coverage report.
DEFAULT_PAGES = [
    ("commune", "/"),
    ("commune", "/members"),
    ("commune", "/members/new"),
    ("province", "/"),
    ("province", "/reports/coverage"),
]


class Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href") and {"stylesheet", "icon"} & set((a.get("rel") or "").split()):
            self.urls.append(a["href"])
        elif tag == "img" and a.get("src") and not a["src"].startswith("data:"):
            self.urls.append(a["src"])


class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, dict, bytes, int]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(ACCEPT)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        raw_headers = response.msg.as_string()
        for value in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        wire = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + len(raw_headers) + len(data)
        conn.close()
        return response.status, dict(response.getheaders()), data, wire

    def login(self, username: str, password: str) -> None:
        status, _h, html, _w = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html).group(1).decode()
        status, headers, _b, _w = self.request(
            "POST", "/login", urlencode({"csrf_token": token, "username": username, "password": password})
        )
        if status != 302 or "/login" in headers.get("Location", "/login"):
            raise SystemExit(f"log-in as {username} failed ({status})")


def weigh(client: Client, path: str) -> dict:
    rows, url = [], path
    for _ in range(5):  # follow redirects, counting each
        status, headers, body, wire = client.request("GET", url)
        rows.append((url, status, headers.get("Content-Encoding", "-"), wire))
        if status in (301, 302, 303, 307, 308):
            url = urlsplit(urljoin(url, headers["Location"])).path
            continue
        break
    if status != 200:
        return {"path": path, "status": status, "rows": rows, "total": None}
    parser = Assets()
    parser.feed(body.decode("utf-8", "replace"))
    for asset in dict.fromkeys(parser.urls):
        a_status, a_headers, _b, a_wire = client.request("GET", asset)
        rows.append((asset, a_status, a_headers.get("Content-Encoding", "-"), a_wire))
    return {"path": path, "status": status, "rows": rows, "total": sum(r[3] for r in rows)}


def build_database(path: Path) -> str:
    from cdt import create_app
    from cdt.demo import build_demo
    from cdt.extensions import db

    url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        build_demo("laocai")
        db.session.remove()
        db.engine.dispose()
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user", help="only this demo user (with --page)")
    parser.add_argument("--page", action="append", help="page path (repeatable)")
    args = parser.parse_args()
    pages = [(args.user or "commune", p) for p in args.page] if args.page else DEFAULT_PAGES

    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from cdt import create_app
    from cdt.demo import DEMO_PASSWORD

    with tempfile.TemporaryDirectory() as tmp:
        url = build_database(Path(tmp) / "bench.sqlite3")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        over = False
        try:
            clients: dict[str, Client] = {}
            for user, path in pages:
                if user not in clients:
                    clients[user] = Client(server.server_port)
                    clients[user].login(user, DEMO_PASSWORD)
                result = weigh(clients[user], path)
                print(f"\n{user} {path}")
                for url_, status, encoding, wire in result["rows"]:
                    print(f"  {wire:>9,} B  {status}  {encoding:<5} {url_}")
                if result["total"] is None:
                    print(f"  (not measured: HTTP {result['status']})")
                    continue
                verdict = "ok" if result["total"] < BUDGET else "OVER BUDGET"
                over |= result["total"] >= BUDGET
                print(f"  {result['total']:>9,} B  total = {result['total'] / 1024:.1f} KB of 150 KB  {verdict}")
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
    print("\ncommand: .venv/bin/python bench/page_weight.py" + "".join(f" --page {p}" for p in (args.page or [])))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
