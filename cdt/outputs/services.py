"""Writes of the outputs feature: the rules and the transaction (cdt.core.transactions), audited.

Audit events name the fields changed (indicator codes, "note"), never the note's text.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cdt.audit.service import record
from cdt.core.clock import utcnow
from cdt.core.transactions import commit_or_retry
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.outputs import periods, queries, totals
from cdt.outputs.models import Indicator, MonthLock, ReportingDeadline, TeamReport, TeamReportValue
from cdt.registry.models import Team

MONTH_LOCKED = _l("This month is locked by the province; ask the province to reopen it.")
FUTURE_MONTH = _l("A month can be reported once it has started.")
NOT_EXPECTED = _l("This team is not expected to report this month.")


class OutputsError(ValueError):
    """A rule refused the change; `message` is translated, `field` names the input it belongs to."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass
class Entry:
    """What was typed for one team's month: {indicator_id: value or None (blank)}, the note."""

    values: Mapping[int, int | None]
    note: str | None


def check_open(province_id: int, period: str) -> None:
    if periods.is_future(period):
        raise OutputsError(FUTURE_MONTH)
    if queries.is_locked(province_id, period):
        raise OutputsError(MONTH_LOCKED)


def _save_one(team: Team, period: str, entry: Entry, indicator_ids: set[int], source: str) -> bool:
    """Write one team's month (no commit); True when something changed. All blank: no report."""
    report, before = queries.team_month(team, period)
    after = {i: v for i, v in entry.values.items() if i in indicator_ids and v is not None}
    # Values of indicators not on the form (another province's, retired) are kept as they are.
    kept = {i: v for i, v in before.items() if i not in indicator_ids}
    note = entry.note or None
    new_values = {**kept, **after}
    old_note = report.note if report is not None else None
    if new_values == before and note == old_note:
        return False
    codes = dict(db.session.execute(select(Indicator.id, Indicator.code)
                                    .where(Indicator.id.in_(set(before) | set(new_values)))).all())
    changed = sorted(codes[i] for i in set(before) | set(new_values) if before.get(i) != new_values.get(i))
    if note != old_note:
        changed.append("note")
    deltas = {i: new_values.get(i, 0) - before.get(i, 0) for i in set(before) | set(new_values)}
    totals.add(team, period, deltas, (1 if report is None else 0) if new_values else (-1 if report is not None else 0))
    if not new_values:
        if report is not None:
            db.session.delete(report)
            record("outputs.report.delete", team, details={"period": period, "fields": changed, "source": source})
        return True
    if report is None:
        report = TeamReport(team_id=team.id, period=period, source=source)
        db.session.add(report)
        db.session.flush()
    report.note = note
    report.source = source
    report.updated_at = utcnow()
    existing = {v.indicator_id: v for v in report.values}
    for indicator_id, value in new_values.items():
        if indicator_id in existing:
            existing[indicator_id].value = value
        else:
            report.values.append(TeamReportValue(indicator_id=indicator_id, value=value))
    for indicator_id, row in existing.items():
        if indicator_id not in new_values:
            report.values.remove(row)
    record("outputs.report", team, details={"period": period, "fields": changed, "source": source})
    return True


def save_month(commune: AdminUnit, period: str, entries: Mapping[int, Entry], source: str = "form") -> int:
    """Save the commune's month: {team_id: Entry} for teams of the commune expected that month.
    All or nothing; the number of teams whose report changed."""

    def work() -> int:
        check_open(commune.province_id, period)
        teams = {t.id: t for t in db.session.scalars(queries.expected_teams(commune, period))}
        unknown = [team_id for team_id in entries if team_id not in teams]
        if unknown:
            raise OutputsError(NOT_EXPECTED)
        indicator_ids = {i.id for i in queries.indicators_for(commune.province_id, period)}
        return sum(_save_one(teams[team_id], period, entry, indicator_ids, source)
                   for team_id, entry in entries.items())

    return commit_or_retry(work)


def save_team_month(team: Team, period: str, entry: Entry, source: str) -> bool:
    """One team's month (the team leader's link)."""

    def work() -> bool:
        check_open(team.province_id, period)
        start, end = periods.month_start(period), periods.month_end(period)
        expected = db.session.scalar(select(Team.id).where(Team.id == team.id, queries.team_expected(start, end)))
        if expected is None:
            raise OutputsError(NOT_EXPECTED)
        indicator_ids = {i.id for i in queries.indicators_for(team.province_id, period)}
        return _save_one(team, period, entry, indicator_ids, source)

    return commit_or_retry(work)


# -- locks and deadlines ----------------------------------------------------------------------

def lock_month(province: AdminUnit, period: str, user) -> bool:
    def work() -> bool:
        if queries.is_locked(province.id, period):
            return False
        db.session.add(MonthLock(province_id=province.id, period=period, locked_by_id=getattr(user, "id", None)))
        record("outputs.month.lock", province, details={"period": period})
        return True

    return commit_or_retry(work)


def reopen_month(province: AdminUnit, period: str) -> bool:
    def work() -> bool:
        lock = db.session.get(MonthLock, (province.id, period))
        if lock is None:
            return False
        db.session.delete(lock)
        record("outputs.month.reopen", province, details={"period": period})
        return True

    return commit_or_retry(work)


def set_deadline(province: AdminUnit, day: int) -> None:
    def work() -> None:
        row = db.session.get(ReportingDeadline, province.id)
        before = row.day if row is not None else None
        if row is None:
            row = ReportingDeadline(province_id=province.id, day=day)
            db.session.add(row)
        row.day = day
        if before != day:
            record("outputs.deadline", province, changes={"day": [before, day]})

    commit_or_retry(work)


# -- the catalogue ----------------------------------------------------------------------------

INDICATOR_FIELDS = ["code", "name_vi", "name_en", "measure", "valid_from", "valid_to", "active", "position"]


def save_indicator(indicator: Indicator | None, data: Mapping, province_id: int | None) -> Indicator:
    """Create (indicator None, for `province_id`: None = common) or update an indicator."""

    def work() -> Indicator:
        target = indicator
        before = {} if target is None else {f: getattr(target, f) for f in INDICATOR_FIELDS}
        taken = db.session.scalar(select(Indicator.id).where(Indicator.code == data["code"]))
        if taken is not None and (target is None or taken != target.id):
            raise OutputsError(_l("Another indicator has this code."), "code")
        if target is None:
            target = Indicator(province_id=province_id)
            db.session.add(target)
        for name in INDICATOR_FIELDS:
            setattr(target, name, data[name])
        db.session.flush()
        after = {f: getattr(target, f) for f in INDICATOR_FIELDS}
        changed = sorted(f for f in INDICATOR_FIELDS if before.get(f) != after[f])
        record("outputs.indicator.create" if not before else "outputs.indicator.update", target,
               details={"fields": changed})
        return target

    return commit_or_retry(work)


# The common indicators provinces report (seeded by `flask cdt indicators seed`).
COMMON_INDICATORS = [
    ("vneid_level2", "Người dân được hỗ trợ kích hoạt định danh điện tử mức 2 (VNeID)",
     "Residents helped to activate VNeID level 2", "people"),
    ("public_service_dossiers", "Hồ sơ dịch vụ công trực tuyến được hỗ trợ nộp",
     "Online public-service dossiers submitted with help", "dossiers"),
    ("cashless_accounts", "Tài khoản thanh toán không dùng tiền mặt được hỗ trợ mở",
     "Cashless-payment accounts opened with help", "accounts"),
    ("ecommerce_accounts", "Tài khoản thương mại điện tử được hỗ trợ mở",
     "E-commerce accounts opened with help", "accounts"),
    ("households_reached", "Hộ gia đình được tiếp cận, hướng dẫn", "Households reached", "households"),
    ("digital_literacy", "Người dân được hướng dẫn kỹ năng số (Bình dân học vụ số)",
     "People taught digital skills (Bình dân học vụ số)", "people"),
]


def seed_indicators() -> int:
    """Add the common indicators that are missing (by code); the number added. Idempotent."""
    existing = set(db.session.scalars(select(Indicator.code)))
    added = 0
    for position, (code, name_vi, name_en, measure) in enumerate(COMMON_INDICATORS, start=1):
        if code in existing:
            continue
        db.session.add(Indicator(code=code, name_vi=name_vi, name_en=name_en, measure=measure,
                                 province_id=None, active=True, position=position * 10))
        added += 1
    db.session.commit()
    return added
