"""Fuzzing (Hypothesis): generated values into every form and every list filter of the url_map,
as every demo role and anonymous, on the test database (SQLite always; PostgreSQL in the second
pass of `make test`). The property: no answer is a 500 and no page shows a traceback.

What is sent is derived, so that new routes and forms are covered without editing this file:
- routes: every rule of `app.url_map` (static files aside);
- URL arguments: ids of the role's own area and of other areas, and ids beyond 32 and 64 bits
  (`_url_arguments` says which model each argument names; a test checks that it knows them all);
- POST fields: the fields of the WTForms form classes the view uses (found in its code), and the
  forms each page really renders (names with their prefixes, checkbox values, select options);
- query arguments: the fields of the GET forms and links each page renders, and every query
  argument the code reads (`args.get("...")`, `int_arg("...")`) or a form field name.

Each submission keeps most fields at a real value (the value the page shows, or one of its
options) and replaces a few with generated ones: text with NUL and other control characters,
lone surrogates (sent as the bytes a browser could send), over-long text, integers beyond 64 bits,
non-ASCII digits, NaN and infinities, dates in odd formats, and file parts where text is expected.
The number of examples is bounded (EXAMPLES per route and role) and the seed is fixed.
"""
from __future__ import annotations

import inspect
import io
import logging
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from wtforms import fields as wtf_fields
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from cdt.extensions import db

ROLES = ("admin", "province", "district", "commune", "youth", None)  # None: anonymous
EXAMPLES = 4  # generated submissions per route and role
SKIPPED_ENDPOINTS = {"static", "bootstrap.static"}
ROOT = Path(__file__).resolve().parent.parent

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
    phases=(Phase.explicit, Phase.generate),  # no shrinking: the failure report says what was sent
    suppress_health_check=list(HealthCheck),
)


# --- URL arguments ----------------------------------------------------------------------------

def _url_arguments():
    from cdt.auth.models import User
    from cdt.geo.models import AdminUnit, VillageChange
    from cdt.outputs.models import Indicator, TeamLink, TeamReport
    from cdt.privacy.models import PrivacyRequest
    from cdt.registry.models import Membership, Person, Team
    from cdt.training.models import TrainingSession, TrainingTopic

    # argument -> (model, column, area model: the model whose area decides "own"; None: global)
    return {
        "indicator_id": (Indicator, Indicator.id, None),
        "period": (TeamReport, TeamReport.period, None),
        "secret": (TeamLink, TeamLink.token_hash, None),  # stored hashes: never a live secret (404)
        "team_id": (Team, Team.id, Team),
        "person_id": (Person, Person.id, Person),
        "membership_id": (Membership, Membership.id, Person),
        "session_id": (TrainingSession, TrainingSession.id, TrainingSession),
        "code": (AdminUnit, AdminUnit.code, AdminUnit),
        "user_id": (User, User.id, None),
        "topic_id": (TrainingTopic, TrainingTopic.id, None),
        "change_id": (VillageChange, VillageChange.id, VillageChange),
        "request_id": (PrivacyRequest, PrivacyRequest.id, None),
    }


EDGE_IDS = [0, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]
EDGE_CODES = ["%00", "0", "1" * 300, "%C3%28", "%ED%A0%80", "10%0A", "%D9%A1%D9%A0"]


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in SKIPPED_ENDPOINTS]


def _fill(rule, values: dict) -> str:
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _id_pools(user) -> dict[str, tuple[list, list]]:
    """URL argument -> (ids inside the user's area, ids outside it), a few of each."""
    from cdt.auth.scope import area_condition
    from cdt.registry.models import Membership, Person

    pools = {}
    for name, (model, column, area_model) in _url_arguments().items():
        stmt = select(column)
        if area_model is Person and model is Membership:
            stmt = stmt.join(Person, Person.id == Membership.person_id)
        if area_model is not None and user is not None:
            own = db.session.scalars(stmt.where(area_condition(area_model, user)).order_by(column).limit(3)).all()
            foreign = db.session.scalars(stmt.where(~area_condition(area_model, user)).order_by(column)
                                         .limit(2)).all()
        else:
            own = db.session.scalars(stmt.order_by(column).limit(4)).all()
            foreign = []
        if name == "user_id" and user is not None:  # never deactivate or reset the acting account
            own = [i for i in own if i != user.id]
        pools[name] = (list(own), list(foreign))
    return pools


def _url_candidates(rule, pools) -> list[str]:
    """The rule filled with own ids first, then foreign and out-of-range ones."""
    names = sorted(rule.arguments)
    choices = {}
    for name in names:
        converter = rule._converters[name]
        if hasattr(converter, "items"):  # any(...)
            choices[name] = sorted(converter.items)
            continue
        own, foreign = pools[name]
        edges = EDGE_CODES if name == "code" else EDGE_IDS
        choices[name] = [*own, *foreign, *edges]
    urls = []
    for i in range(max((len(c) for c in choices.values()), default=1)):
        urls.append(_fill(rule, {n: c[i % len(c)] for n, c in choices.items()}))
    return urls


# --- what a page renders -------------------------------------------------------------------------

@dataclass
class FieldSpec:
    kind: str = "text"  # text, int, decimal, date, datetime, select, bool, file, hidden, password, any
    values: list = field(default_factory=list)  # real values: shown, or offered as options
    maxlength: int | None = None
    multiple: bool = False


@dataclass
class Variant:
    url: str
    fields: dict[str, FieldSpec]


INPUT_KINDS = {"date": "date", "datetime-local": "datetime", "number": "int", "checkbox": "bool", "radio": "select",
               "file": "file", "hidden": "hidden", "password": "password"}


class PageParser(HTMLParser):
    """The forms (action, method, fields) and the links of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form = None
        self._select = None
        self._textarea = None

    def _field(self, name) -> FieldSpec:
        fields = self._form["fields"] if self._form is not None else {}
        return fields.setdefault(name, FieldSpec())

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").upper(),
                          "fields": {}}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag in ("input", "button"):
            spec = self._field(a["name"])
            kind = INPUT_KINDS.get(a.get("type", "text"), "text") if tag == "input" else "select"
            spec.kind = kind if spec.kind in ("text", kind) else spec.kind
            if a.get("value") is not None and a["value"] not in spec.values:
                spec.values.append(a["value"])
            if spec.kind in ("bool", "select") and len(spec.values) > 1:
                spec.multiple = spec.kind == "bool"
            if a.get("maxlength", "").isdigit():
                spec.maxlength = int(a["maxlength"])
        elif tag == "select":
            self._select = self._field(a["name"])
            self._select.kind = "select"
        elif tag == "option" and self._select is not None:
            self._select.values.append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = self._field(a["name"])
            if a.get("maxlength", "").isdigit():
                self._textarea.maxlength = int(a["maxlength"])

    def handle_data(self, data):
        if self._textarea is not None and data.strip():
            self._textarea.values.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


# --- form classes and query arguments read by the code ------------------------------------------

def _kind_of(field_class) -> str:
    for base, kind in ((wtf_fields.DateTimeField, "datetime"), (wtf_fields.DateField, "date"),
                       (wtf_fields.DecimalField, "decimal"), (wtf_fields.IntegerField, "int"),
                       (wtf_fields.BooleanField, "bool"), (wtf_fields.FileField, "file"),
                       (wtf_fields.SelectFieldBase, "select"), (wtf_fields.PasswordField, "password")):
        if issubclass(field_class, base):
            return kind
    return "text"


def form_fields(form_class) -> dict[str, FieldSpec]:
    """The fields of a WTForms form class (unbound), with their kind and maximum length."""
    found = {}
    for attr in dir(form_class):
        unbound = getattr(form_class, attr, None)
        if not isinstance(unbound, UnboundField):
            continue
        validators = list(unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else []))
        lengths = [v.max for v in validators if isinstance(v, Length) and v.max and v.max > 0]
        name = unbound.kwargs.get("name") or attr
        found[name] = FieldSpec(kind=_kind_of(unbound.field_class), maxlength=min(lengths) if lengths else None)
    return found


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from _code_objects(const)


def forms_of_view(view, depth: int = 3) -> set:
    """The FlaskForm classes a view uses: named in its code or in the cdt functions it calls."""
    found, seen = set(), set()

    def walk(func, left):
        func = inspect.unwrap(func)
        if func in seen or left < 0 or not hasattr(func, "__code__"):
            return
        seen.add(func)
        for code in _code_objects(func.__code__):
            for name in code.co_names:
                obj = func.__globals__.get(name)
                if inspect.isclass(obj) and issubclass(obj, FlaskForm):
                    found.add(obj)
                elif inspect.isfunction(obj) and obj.__module__.startswith("cdt"):
                    walk(obj, left - 1)

    walk(view, depth)
    return found


def _all_form_classes() -> set:
    classes, todo = set(), [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("cdt") and sub not in classes:
                classes.add(sub)
                todo.append(sub)
    return classes


ARG_PATTERN = re.compile(r"""\b(?:args|values)\.get(?:list)?\(\s*["'](\w+)["']|\b\w*int_arg\(\s*["'](\w+)["']""")


def argument_universe() -> dict[str, FieldSpec]:
    """Every query argument the code reads, and every form field name, with its kind when known."""
    universe: dict[str, FieldSpec] = {}
    for path in sorted((ROOT / "cdt").rglob("*.py")):
        for match in ARG_PATTERN.finditer(path.read_text(encoding="utf-8")):
            universe.setdefault(match.group(1) or match.group(2), FieldSpec(kind="any"))
    for form_class in _all_form_classes():
        for name, spec in form_fields(form_class).items():
            universe.setdefault(name, spec)
    return universe


# --- generated values ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FilePart:
    content: bytes
    filename: str


NASTY_TEXT = ["\x00", "a\x00b", "\ud800", "x\udfff", "\x1b[31m", "\u202e\u0000", "\ufeff", "\r\n", "\x7f\x08",
              "' OR 1=1 --", "%", "_", "\\", "<script>", "{{7*7}}", "NaN", "", " ", "\u00a0", "😀"]
NASTY_INTS = ["9223372036854775808", "-9223372036854775809", "18446744073709551616", "9223372036854775807",
              "2147483648", "-1", "0", "00", "1e3", "1.5", " 7 ", "\u0663", "\u00b2", "1_000", "+5", "0x10",
              "9" * 400, "-0", "٣٢"]
NASTY_DECIMALS = ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999", "1e-999999", "0.05", "80.05", "-0", "1E+2",
                  "4,5", "\u0664.\u0665"]
NASTY_DATES = ["31/02/2023", "2023-02-31", "0000-00-00", "0001-01-01", "9999-12-31", "10000-01-01", "2023-13-01",
               "1/1/1", "2023-06-31T25:61", "2023-06-01T08:00", "32.13.2023", "1900-01-01", "2100-01-01",
               "\u0662\u0660\u0662\u0663-\u0660\u0661-\u0660\u0661", "2023-W01", "-2023-01-01", "2023-01-01T08:00:00Z",
               "99999-01-01T00:00"]

_text = st.text(max_size=40) | st.sampled_from(NASTY_TEXT) | st.lists(
    st.sampled_from(NASTY_TEXT) | st.text(max_size=5), min_size=1, max_size=4).map("".join)
_ints = st.sampled_from(NASTY_INTS) | st.integers(min_value=-(2**80), max_value=2**80).map(str)
_dates = st.sampled_from(NASTY_DATES) | st.dates().map(lambda d: d.strftime("%d/%m/%Y")) | st.datetimes().map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M"))
_files = st.builds(FilePart, st.binary(max_size=64) | st.just(b"PK\x03\x04garbage") | st.just("a;b\n\x00;\xff".encode()),
                   st.sampled_from(["x.csv", "x.xlsx", "", "../../etc/passwd", "a\x00.csv", "ảnh.png", "x" * 300]))


def _long(maxlength: int | None):
    sizes = [maxlength + 1, maxlength * 2 + 3] if maxlength else [121, 2001]
    return st.tuples(st.sampled_from([*sizes, 10_000]), st.sampled_from(["x", "ệ", "😀", "a b"])).map(
        lambda t: (t[1] * t[0])[: t[0]])


def nasty(spec: FieldSpec):
    """Generated values for one field: mostly of its kind, sometimes of any other."""
    by_kind = {"int": _ints, "select": _ints | _text, "decimal": st.sampled_from(NASTY_DECIMALS) | _ints,
               "date": _dates, "datetime": _dates, "bool": _text | _ints, "file": _files | _text}
    own = by_kind.get(spec.kind, _text)
    return st.one_of(own, _long(spec.maxlength), _text | _ints | _dates, _files)


@st.composite
def submission(draw, variants: list[Variant], universe: dict[str, FieldSpec], fill_all: bool):
    """A URL and its parameters: real values for most fields, generated values for a few."""
    variant = draw(st.sampled_from(variants))
    names = sorted(variant.fields)
    data: dict[str, object] = {}
    if fill_all:  # a form: every field, most with a real value
        for name in names:
            spec = variant.fields[name]
            if spec.values:
                data[name] = (draw(st.lists(st.sampled_from(spec.values), max_size=3, unique=True)) if spec.multiple
                              else draw(st.sampled_from(spec.values)))
    chosen = draw(st.lists(st.sampled_from(names), max_size=3, unique=True)) if names else []
    for name in chosen:
        spec = variant.fields[name]
        if not fill_all and spec.values and draw(st.booleans()):
            data[name] = draw(st.sampled_from(spec.values))
        else:
            data[name] = draw(st.lists(nasty(spec), min_size=2, max_size=3)) if spec.multiple else draw(nasty(spec))
    for name in draw(st.lists(st.sampled_from(sorted(universe)), max_size=2, unique=True)):
        data.setdefault(name, draw(nasty(universe[name])))
    return variant.url, data


# --- sending ------------------------------------------------------------------------------------

def _encode(value) -> str:
    """Percent-encoded UTF-8; a lone surrogate goes as the bytes a careless client would send."""
    return quote(str(value).encode("utf-8", "surrogatepass"), safe="")


def _pairs(data: dict):
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            yield name, item


def send(client, method: str, url: str, data: dict):
    if method == "GET":
        query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in _pairs(data))
        return client.get(f"{url}?{query}" if query else url)
    if any(isinstance(v, FilePart) for _k, v in _pairs(data)):
        body: dict[str, list] = {}
        for name, value in _pairs(data):
            if isinstance(value, FilePart):
                value = (io.BytesIO(value.content), value.filename)
            else:  # multipart parts are text: what a browser sends for a lone surrogate
                value = str(value).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
            body.setdefault(name, []).append(value)
        return client.post(url, data=body, content_type="multipart/form-data")
    form = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in _pairs(data))
    return client.post(url, data=form.encode("ascii"), content_type="application/x-www-form-urlencoded")


class ErrorLog(logging.Handler):
    """The app's logged exceptions, to show what failed behind a 500."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append(f"{record.exc_info[0].__name__}: {record.exc_info[1]}"[:300])


# --- the walk -----------------------------------------------------------------------------------

def _login(app, client, username: str | None) -> None:
    """Put the user's log-in in the client's session (current token, no password form). No app
    context is held between requests: a request would reuse it, and its `g` (the logged-in user)."""
    from cdt.auth.models import User

    with client.session_transaction() as sess:
        sess.clear()
        if username is not None:
            with app.app_context():
                user = db.session.scalar(select(User).where(User.username == username))
                sess["_user_id"] = user.get_id()
            now = time.time()
            sess["_fresh"] = True
            sess["login_at"] = now
            sess["seen_at"] = now


def _match(adapter, url: str, method: str):
    try:
        return adapter.match(urlsplit(url).path, method=method)[0]
    except HTTPException:
        return None


DOWNLOAD = re.compile(r"\.\w+$")  # /members/export.xlsx, /training/calendar.ics: files, not pages


def discover(app, client, rules, pools) -> tuple[dict, dict]:
    """GET every page once (own ids): the POST forms (by endpoint) and the query arguments (by
    GET endpoint) that the pages render, with their real values."""
    adapter = app.url_map.bind("localhost")
    posts: dict[str, list[Variant]] = {}
    queries: dict[str, dict[str, FieldSpec]] = {}
    for rule in rules:
        if "GET" not in rule.methods or DOWNLOAD.search(rule.rule):
            continue
        response = client.get(_url_candidates(rule, pools)[0])
        if response.mimetype != "text/html":
            continue
        parser = PageParser()
        parser.feed(response.get_data(as_text=True))
        page = urlsplit(response.request.url).path
        for form in parser.forms:
            action = urlsplit(form["action"]).path or page
            endpoint = _match(adapter, action, form["method"])
            if endpoint is None:
                continue
            if form["method"] == "POST":
                posts.setdefault(endpoint, []).append(Variant(action, form["fields"]))
            else:
                queries.setdefault(endpoint, {}).update(form["fields"])
        for link in parser.links:
            parts = urlsplit(link)
            endpoint = _match(adapter, parts.path or page, "GET")
            if endpoint is None:
                continue
            for name, value in parse_qsl(parts.query):
                spec = queries.setdefault(endpoint, {}).setdefault(name, FieldSpec(kind="any"))
                if value not in spec.values:
                    spec.values.append(value)
    return posts, queries


@dataclass
class Target:
    method: str
    rule: object
    variants: list[Variant]  # the first one: a real URL (own ids) with the page's fields
    fill_all: bool  # a form (send every field) rather than a list's filters (send a few)
    edge_url: str | None  # the URL with ids beyond 64 bits (2**63)


def targets(app, rules, pools, posts, queries) -> list[Target]:
    """Every rule and method: the forms of POST routes, the filters of GET routes."""
    found = []
    for rule in sorted(rules, key=lambda r: r.rule):
        urls = _url_candidates(rule, pools)
        edge = None
        if rule.arguments and not any(hasattr(rule._converters[n], "items") for n in rule.arguments):
            edge = _fill(rule, {n: "%00" if n == "code" else 2**63 for n in rule.arguments})
        class_fields: dict[str, FieldSpec] = {}
        for form_class in forms_of_view(app.view_functions[rule.endpoint]):
            class_fields.update(form_fields(form_class))
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "GET":  # the list filters the pages render (a GET form reads no POSTed fields)
                page = queries.get(rule.endpoint, {})
                found.append(Target(method, rule, [Variant(url, page) for url in urls], False, edge))
                continue
            rendered = posts.get(rule.endpoint, [])[:4]
            for variant in rendered:  # a prefixed name ("move12-team_id") takes its class field's kind
                for name, spec in variant.fields.items():
                    base = class_fields.get(name.rpartition("-")[2])
                    if base is not None and spec.kind in ("text", "hidden") and base.kind != "text":
                        spec.kind = base.kind
                    if base is not None and spec.maxlength is None:
                        spec.maxlength = base.maxlength
            variants = rendered + [Variant(url, class_fields) for url in urls]
            found.append(Target(method, rule, variants, True, edge))
    return found


def _real(variant: Variant, fill_all: bool) -> dict:
    if not fill_all:
        return {}
    return {name: spec.values[0] for name, spec in variant.fields.items() if spec.values}


TEXT_KINDS = {"text", "password"}


def _extreme(spec: FieldSpec) -> str:
    if spec.kind in TEXT_KINDS:
        return "x" * ((spec.maxlength or 2000) + 1)  # one character too many
    return str(2**63)  # one beyond the largest database integer


SYSTEMATIC = {  # every field at once: the classes of input the issue found answering 500
    "extreme": _extreme,
    "nul": lambda spec: "a\x00b\ud800",
}


def systematic_examples(target: Target) -> list[tuple[str, dict]]:
    """The first one also tells whether the route turns the role away before reading anything."""
    variant = target.variants[0]
    real = _real(variant, target.fill_all)
    examples = [(variant.url, {**real, **{name: make(spec) for name, spec in variant.fields.items()}})
                for make in SYSTEMATIC.values()] if variant.fields else [(variant.url, real)]
    if target.edge_url:
        examples.append((target.edge_url, real))
    return examples


def _refused(response) -> bool:
    """The route turns the role away before reading anything (403, or the log-in page)."""
    return response.status_code in (401, 403) or (
        response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""))


def fuzz_role(app, role) -> tuple[list[str], int]:
    """Fuzz every route as `role`; returns the failures and the number of requests sent."""
    from cdt.auth.models import User

    client = app.test_client()
    errors = ErrorLog()
    app.logger.addHandler(errors)
    failures: list[str] = []
    sent = 0
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == role)) if role else None
        pools = _id_pools(user)
    rules = _rules(app)
    _login(app, client, role)
    posts, queries = discover(app, client, rules, pools)
    universe = argument_universe()

    def request(method, url, data):
        nonlocal sent
        _login(app, client, role)
        errors.records.clear()
        sent += 1
        try:
            response = send(client, method, url, data)
            body = response.get_data()
        except Exception as error:  # noqa: BLE001 - raised while the test client read the answer
            raise AssertionError(f"{method} {url} raised {error!r} data={data!r}"[:1000]) from error
        assert response.status_code != 500 and b"Traceback (most recent call last)" not in body, (
            f"{method} {url} -> {response.status_code} {errors.records[-1:]} data={data!r}"[:1000])
        return response

    try:
        for target in targets(app, rules, pools, posts, queries):
            examples = systematic_examples(target)
            try:
                if _refused(request(target.method, *examples[0])):
                    continue
                for url, data in examples[1:]:
                    request(target.method, url, data)
            except AssertionError as failure:
                failures.append(f"[{role or 'anonymous'}] {failure}")
                continue
            if target.method == "GET" and not target.variants[0].fields:
                continue  # a page without filters: its URL arguments were tried above

            @FUZZ_SETTINGS
            @given(submission(target.variants, universe, target.fill_all))
            def check(sub):
                request(target.method, *sub)  # noqa: B023 - run at once, in this iteration

            try:
                check()
            except Exception as failure:  # noqa: BLE001 - AssertionError, or Hypothesis's Flaky
                failures.append(f"[{role or 'anonymous'}] {str(failure).splitlines()[0]}")
    finally:
        app.logger.removeHandler(errors)
    return failures, sent


@pytest.fixture(scope="module")
def bare_app():
    """The url_map and the views (no database needed)."""
    from cdt import create_app
    from tests.conftest import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_fuzz_knows_every_url_argument(bare_app):
    known = set(_url_arguments())
    unknown = {}
    for rule in _rules(bare_app):
        for name in rule.arguments:
            if name not in known and not hasattr(rule._converters[name], "items"):
                unknown[name] = rule.rule
    assert not unknown, f"URL arguments tests/test_fuzz.py cannot fill (add them to _url_arguments): {unknown}"


def test_fuzz_derives_fields_for_every_form(bare_app):
    """Every view that takes a POST is found to use a form class; the query arguments the code reads
    are found."""
    missing = [r.rule for r in _rules(bare_app)
               if "POST" in r.methods and not forms_of_view(bare_app.view_functions[r.endpoint])]
    assert not missing, f"POST routes whose form class the fuzz test cannot find: {missing}"
    universe = argument_universe()
    for name in ("q", "topic", "district", "commune", "per_page", "month", "full_name", "notes", "from"):
        assert name in universe


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_no_generated_input_gets_a_500(app, role):
    failures, sent = fuzz_role(app, role)
    assert sent >= 50
    assert not failures, f"{len(failures)} routes answered 500:\n" + "\n".join(failures)
