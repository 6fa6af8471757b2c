"""Indicators, monthly team reports and their values, month locks, deadlines, targets.

- `Indicator`: what is counted (people helped with VNeID, dossiers, accounts...). `province_id`
  NULL: a common indicator every province reports; otherwise a province's own.
- `TeamReport`: one per team and month (`period` 'YYYY-MM'), with a note; `TeamReportValue` one
  per indicator reported (a non-negative integer; no row = blank, "not reported"; 0 = none).
  A team has reported a month when its report holds at least one value (a report whose figures
  are all blank is deleted).
- `ReportingDeadline`: per province, the day of the following month by which a month is due.
- `MonthLock`: a province's month locked by its staff (no change until reopened).
- `OutputTarget`: a province's or a commune's target for an indicator, a year (`month` NULL) or a month.
- `TeamLink`: a team leader's private link (the secret hashed); `AllowanceRate`: a province's monthly allowance.
"""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cdt.core.clock import utcnow
from cdt.extensions import db

MEASURES = {
    "people": _l("People"),
    "households": _l("Households"),
    "dossiers": _l("Dossiers"),
    "accounts": _l("Accounts"),
}

DEFAULT_DEADLINE_DAY = 5


class Indicator(db.Model):
    __tablename__ = "output_indicator"
    __table_args__ = (
        CheckConstraint("measure IN ('people', 'households', 'dossiers', 'accounts')", name="measure"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    measure: Mapped[str] = mapped_column(String(12))
    province_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    position: Mapped[int] = mapped_column(Integer, default=100, server_default="100")

    def name(self, locale: str | None) -> str:
        return self.name_en if locale == "en" else self.name_vi

    @property
    def measure_label(self) -> str:
        return str(MEASURES.get(self.measure, self.measure))


class TeamReport(db.Model):
    __tablename__ = "team_report"
    __table_args__ = (
        UniqueConstraint("team_id", "period", name="uq_team_report_team_period"),
        Index("ix_team_report_period_team", "period", "team_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    period: Mapped[str] = mapped_column(String(7))
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="form", server_default="form")
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    values: Mapped[list[TeamReportValue]] = relationship(back_populates="report", cascade="all, delete-orphan")


class TeamReportValue(db.Model):
    __tablename__ = "team_report_value"
    __table_args__ = (
        CheckConstraint("value >= 0", name="non_negative"),
        Index("ix_team_report_value_indicator", "indicator_id", "report_id"),
    )

    report_id: Mapped[int] = mapped_column(ForeignKey("team_report.id", ondelete="CASCADE"), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("output_indicator.id"), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)

    report: Mapped[TeamReport] = relationship(back_populates="values")


class ReportingDeadline(db.Model):
    __tablename__ = "reporting_deadline"
    __table_args__ = (CheckConstraint("day BETWEEN 1 AND 28", name="day"),)

    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    day: Mapped[int] = mapped_column(Integer)


class MonthLock(db.Model):
    __tablename__ = "month_lock"

    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutputTarget(db.Model):
    __tablename__ = "output_target"
    __table_args__ = (
        CheckConstraint("value >= 0", name="non_negative"),
        CheckConstraint("month IS NULL OR month BETWEEN 1 AND 12", name="month"),
        Index("uq_output_target_year", "unit_id", "indicator_id", "year", unique=True,
              sqlite_where=text("month IS NULL"), postgresql_where=text("month IS NULL")),
        Index("uq_output_target_month", "unit_id", "indicator_id", "year", "month", unique=True,
              sqlite_where=text("month IS NOT NULL"), postgresql_where=text("month IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("output_indicator.id"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[int] = mapped_column(Integer)

    indicator: Mapped[Indicator] = relationship()


class TeamLink(db.Model):
    """A team leader's private link (`/t/<secret>`): only the secret's SHA-256 is stored; a team
    has at most one live link (a new one revokes the old); revoked links answer 404."""

    __tablename__ = "team_link"
    __table_args__ = (
        Index("uq_team_link_live_team", "team_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AllowanceRate(db.Model):
    """A province's monthly allowance: an amount per team and optionally per member (VND), valid
    from/to (both inclusive; no end: still valid)."""

    __tablename__ = "allowance_rate"
    __table_args__ = (
        CheckConstraint("per_team >= 0 AND (per_member IS NULL OR per_member >= 0)", name="non_negative"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    per_team: Mapped[int] = mapped_column(Integer)
    per_member: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CommuneMonthTotal(db.Model):
    """Counters the outputs report reads instead of scanning every value: per commune, month and
    indicator the sum of the teams' values, kept by cdt.outputs.services in the same transaction as
    the values (rebuilt by `flask cdt indicators rebuild-totals`). The place columns are the team's
    when the value was written (the map of that day)."""

    __tablename__ = "output_commune_month"
    __table_args__ = (
        Index("ix_output_commune_month_period", "period", "indicator_id", "province_id", "total"),
        Index("ix_output_commune_month_province", "province_id", "period"),
    )

    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("output_indicator.id"), primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    total: Mapped[int] = mapped_column(Integer, default=0)


class CommuneMonthReports(db.Model):
    """Per commune and month, the number of team reports (the same upkeep as CommuneMonthTotal)."""

    __tablename__ = "output_commune_reports"
    __table_args__ = (
        Index("ix_output_commune_reports_period", "period", "province_id", "reports"),
        Index("ix_output_commune_reports_province", "province_id", "period"),
    )

    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"))
    reports: Mapped[int] = mapped_column(Integer, default=0)


class ProvinceMonthTotal(db.Model):
    """The same counters per province (what the nation-wide report reads)."""

    __tablename__ = "output_province_month"

    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("output_indicator.id"), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)


class ProvinceMonthReports(db.Model):
    __tablename__ = "output_province_reports"

    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    reports: Mapped[int] = mapped_column(Integer, default=0)
