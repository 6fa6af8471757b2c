"""Services own the transaction and the business rules; views parse forms and show refusals.

- No view module commits, rolls back or writes through the session: an AST scan of every views
  module of cdt/ (it fails when someone adds `db.session.commit()` or `commit_or_retry(...)` to a
  view again).
- The training service enforces the attendance and session rules itself (called directly, as
  the API or a CLI would): RuleError with the field it concerns, nothing saved.
- One helper puts a refusal on a form: under its field, else at the top.
"""
from __future__ import annotations

import ast
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from cdt.config import ROOT
from cdt.core import clock
from cdt.core.rules import ConflictError, RuleError, apply_rule_error
from cdt.extensions import db
from cdt.training import services
from cdt.training.models import Attendance, TrainingSession, TrainingTopic
from tests.factories import acting_as, gen_person, gen_session, gen_team, gen_village

FORBIDDEN_SESSION_CALLS = {"commit", "rollback", "flush", "add", "add_all", "delete", "begin_nested"}
FORBIDDEN_FUNCTIONS = {"commit_or_retry"}


def _views_modules() -> list[Path]:
    package = ROOT / "cdt"
    return sorted(p for p in package.rglob("*.py") if p.name == "views.py" or p.name.endswith("_views.py"))


def _violations(path: Path, root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        where = f"{path.relative_to(root)}:{node.lineno}"
        if isinstance(called, ast.Name) and called.id in FORBIDDEN_FUNCTIONS:
            found.append(f"{where} {called.id}()")
        if (isinstance(called, ast.Attribute) and called.attr in FORBIDDEN_SESSION_CALLS
                and isinstance(called.value, ast.Attribute) and called.value.attr == "session"):
            found.append(f"{where} session.{called.attr}()")
    return found


def test_views_never_commit_or_write_through_the_session():
    modules = _views_modules()
    assert len(modules) >= 8  # the scan really found the views
    violations = [v for path in modules for v in _violations(path)]
    assert violations == []


def test_the_scan_finds_a_commit_in_a_view(tmp_path):
    bad = tmp_path / "views.py"
    bad.write_text("from cdt.extensions import db\n\n\ndef page():\n    db.session.commit()\n"
                   "    commit_or_retry(page)\n", encoding="utf-8")
    assert _violations(bad, tmp_path) == ["views.py:5 session.commit()", "views.py:6 commit_or_retry()"]


class _Field:
    def __init__(self):
        self.errors = []


class _Form:
    def __init__(self):
        self.hours = _Field()
        self.form_errors = []


def test_apply_rule_error_puts_the_message_under_its_field_or_on_top():
    form = _Form()
    apply_rule_error(form, RuleError("hours", "too many hours"))
    apply_rule_error(form, RuleError(None, "whole form"))
    apply_rule_error(form, RuleError("no_such_field", "unknown field"))
    assert form.hours.errors == ["too many hours"]
    assert form.form_errors == ["whole form", "unknown field"]


def _attendance(ts_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.session_id == ts_id))


@pytest.mark.bare
def test_the_training_service_refuses_attendance_that_breaks_a_rule(app):
    with app.app_context(), acting_as() as admin, force_locale("en"):
        village = gen_village()
        team = gen_team(village, members=2)
        person = gen_person(team=team)
        past = gen_session(status="planned", length=2)
        future = gen_session(status="planned", starts_at=clock.local_now() + timedelta(days=3))
        cancelled = gen_session(status="cancelled")
        cases = [
            (cancelled, {person.id}, Decimal(2), None, "cancelled"),
            (future, {person.id}, Decimal(2), None, "not started"),
            (past, set(), Decimal(2), None, "Tick at least one"),
            (past, {person.id}, Decimal(5), "hours", "length of the session"),
        ]
        for ts, present, hours, field, words in cases:
            with pytest.raises(RuleError) as refused:
                services.record_attendance(ts, present, set(), hours, admin)
            assert refused.value.field == field
            assert words in refused.value.message
            assert _attendance(ts.id) == 0
        assert db.session.get(TrainingSession, past.id).status == "planned"  # nothing saved
        result = services.record_attendance(past, {person.id}, set(), Decimal(2), admin)
        assert result["added"] == [person.id]
        db.session.expire_all()
        assert _attendance(past.id) == 1
        assert db.session.get(TrainingSession, past.id).status == "held"  # committed by the service


@pytest.mark.bare
def test_the_training_service_refuses_a_stale_edit_and_deleting_attended_sessions(app):
    with app.app_context(), acting_as() as admin:
        team = gen_team(gen_village(), members=1)
        person = gen_person(team=team)
        ts = gen_session(status="planned", length=2)
        area = ts.area
        data = {"title": "Đổi tên", "topic_id": ts.topic_id, "mode": ts.mode, "starts_at": ts.starts_at,
                "ends_at": ts.ends_at, "hours": ts.hours, "venue": ts.venue, "trainer": ts.trainer,
                "capacity": ts.capacity, "notes": ts.notes, "status": "planned"}
        with pytest.raises(ConflictError):
            services.update_session(ts, data, area, opened_version=str(ts.version_id + 1))
        db.session.expire_all()
        assert db.session.get(TrainingSession, ts.id).title != "Đổi tên"
        services.record_attendance(ts, {person.id}, set(), Decimal(2), admin)
        with pytest.raises(services.CancelNeedsConfirmation):
            services.update_session(ts, {**data, "status": "cancelled"}, area, confirm_cancel=False)
        with pytest.raises(RuleError):
            services.delete_session(ts)
        db.session.expire_all()
        assert db.session.get(TrainingSession, ts.id).status == "held" and _attendance(ts.id) == 1


@pytest.mark.bare
def test_a_topic_code_is_unique_through_the_service(app):
    with app.app_context(), acting_as():
        first = services.save_topic(None, "ma-chung", "Chủ đề một", "Topic one", True)
        with pytest.raises(RuleError) as refused:
            services.save_topic(None, "ma-chung", "Chủ đề hai", "Topic two", True)
        assert refused.value.field == "code"
        assert db.session.scalar(select(func.count()).select_from(TrainingTopic).where(
            TrainingTopic.code == "ma-chung")) == 1
        assert services.toggle_topic(first) is False
        db.session.expire_all()
        assert db.session.get(TrainingTopic, first.id).active is False

