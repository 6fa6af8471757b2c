"""Changes to teams, people and memberships: the rules, the audit trail, one transaction each.

Views call these with values a form has already parsed; the functions raise
- `RuleError(field, message)`: a rule refused the change (shown next to `field`);
- `DuplicateError(people, elsewhere)`: the person is already recorded (shown as the duplicate page:
  `people` are the matches the user may see, `elsewhere` the message about matches outside the
  user's area, which names nobody);
- `ConflictError`: someone changed the record since the form was opened.
Nothing is saved when they raise: `saving()` rolls back.

Each public function is one unit of work (`@transactional`): run again when the database gave up
on it because of a concurrent transaction. Those that change memberships first take their row
locks with `lock_for_change` (one fixed order: no deadlock between them), then check the rules
on what the transactions they waited for committed.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from cdt.audit.service import diff, record, snapshot
from cdt.auth.scope import area_condition
from cdt.core import clock
from cdt.core.rules import ConflictError, RuleError  # noqa: F401 (re-exported: services.RuleError)
from cdt.core.text import fold, team_search_name, vi_sort_key
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.registry.matching import Facts, Match, find_matches
from cdt.registry.models import ROLE_LABELS, Membership, Person, Team, TeamDecision
from cdt.registry.rules import registered_elsewhere, split_by_area
from cdt.reports.models import lock_for_change

TEAM_FIELDS = ["village_id", "name", "established_on", "decision_number", "status", "dissolved_on", "notes"]
PERSON_FIELDS = ["full_name", "gender", "birth_date", "ethnicity", "phone", "citizen_id", "youth_union", "position"]


class DuplicateError(Exception):
    """`people`: the matching people the user may see; `elsewhere`: what they are told about
    matches outside their area; `reasons`: why each shown person matched; `undecided`: every
    match is only a hint (a shared phone, cdt.registry.matching), so the user may answer
    "different person" and register them anyway."""

    def __init__(self, people: list[Person], elsewhere: str | None = None, reasons: dict | None = None,
                 undecided: bool = False):
        super().__init__("duplicate person")
        self.people = people
        self.elsewhere = elsewhere
        self.reasons = reasons or {}
        self.undecided = undecided

    @classmethod
    def among(cls, matches: list[Match], unit: AdminUnit) -> DuplicateError:
        """From all the matches, what the user may learn: the people in their area, and that
        someone elsewhere matches (with whom to ask, for a user working in `unit`)."""
        shown, elsewhere = split_by_area([m.person for m in matches])
        undecided = not any(m.certain for m in matches)
        message = None
        if elsewhere:
            message = shared_phone_elsewhere() if undecided else registered_elsewhere(unit)
        reasons = {m.person.id: m for m in matches}
        return cls(shown, message, reasons={p.id: reasons[p.id] for p in shown}, undecided=undecided)


def shared_phone_elsewhere() -> str:
    """About an uncertain match outside the user's area: that the phone is shared, nothing more."""
    return _("A person registered in another area has the same phone number, with another name or birth date. "
             "If this is a different person (a family sharing one phone), register them anyway.")


def check_version(obj: Any, submitted: Any) -> None:
    """The form carried the version it was opened with; refuse if the record moved on since."""
    if str(submitted or "") != str(obj.version_id):
        raise ConflictError()


def _integrity_kind(error: IntegrityError) -> str:
    text = str(error.orig)
    for marker, kind in (
        ("uq_person_province_name_birth", "person"),
        ("uq_person_citizen_id", "person"),
        ("person.citizen_id", "person"),
        ("person.search_name", "person"),
        ("uq_team_active_village", "team_village"),
        ("team.village_id", "team_village"),
        ("uq_membership_current_person_team", "membership_person"),
        ("membership.person_id, membership.team_id", "membership_person"),
        ("uq_membership_current_leader", "membership_role"),
        ("uq_membership_current_deputy", "membership_role"),
        ("membership.team_id", "membership_role"),
    ):
        if marker in text:
            return kind
    return "other"


@contextmanager
def saving(on_integrity=None):
    """Run the changes and commit them; on any failure roll back (nothing saved). A unique-index
    failure is handed to `on_integrity(kind)`, which raises the matching RuleError/DuplicateError;
    a version mismatch at UPDATE time (StaleDataError) becomes ConflictError."""
    try:
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ConflictError() from None
    except IntegrityError as error:
        db.session.rollback()
        kind = _integrity_kind(error)
        if on_integrity is not None:
            on_integrity(kind)
        raise RuleError(None, _("The change could not be saved because it breaks a rule of the registry. "
                                "Reload the page and check the data.")) from None
    except BaseException:
        db.session.rollback()
        raise


def _user_id() -> int | None:
    return getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None


# --------------------------------------------------------------------------- teams


def village_in_area(village_id: int | None) -> AdminUnit:
    unit = None
    if village_id:
        unit = db.session.scalar(select(AdminUnit).where(
            AdminUnit.id == village_id, AdminUnit.level == "village", area_condition(AdminUnit)))
    if unit is None:
        raise RuleError("village_id", _("Choose a village in your area."))
    return unit


def _active_team_in(village_id: int, exclude_id: int | None = None) -> Team | None:
    stmt = select(Team).where(Team.village_id == village_id, Team.status == "active")
    if exclude_id is not None:
        stmt = stmt.where(Team.id != exclude_id)
    return db.session.scalar(stmt.limit(1))


def _village_taken(village: AdminUnit, team: Team) -> RuleError:
    return RuleError("village_id", _("%(village)s already has an active team: %(team)s.",
                                     village=village.name, team=team.name))


def _check_team_dates(data: dict) -> None:
    today = clock.today()
    if data.get("established_on") and data["established_on"] > today:
        raise RuleError("established_on", _("The date cannot be in the future."))
    if data["status"] == "dissolved":
        if not data.get("dissolved_on"):
            raise RuleError("dissolved_on", _("Enter the date the team was dissolved."))
        if data["dissolved_on"] > today:
            raise RuleError("dissolved_on", _("The date cannot be in the future."))
        if data.get("established_on") and data["dissolved_on"] < data["established_on"]:
            raise RuleError("dissolved_on", _("A team cannot be dissolved before it was established."))
    else:
        data["dissolved_on"] = None


def _on_team_village_taken(village: AdminUnit):
    def handler(kind: str) -> None:
        if kind == "team_village":
            raise RuleError("village_id", _("%(village)s already has an active team.", village=village.name))

    return handler


@transactional
def create_team(data: dict) -> Team:
    village = village_in_area(data.get("village_id"))
    _check_team_dates(data)
    if data["status"] == "active":
        existing = _active_team_in(village.id)
        if existing is not None:
            raise _village_taken(village, existing)
    name = (data.get("name") or "").strip() or _("CDT team %(village)s", village=village.name)
    with saving(_on_team_village_taken(village)):
        team = Team(village_id=village.id, name=name, established_on=data.get("established_on"),
                    decision_number=data.get("decision_number") or None, status=data["status"],
                    dissolved_on=data.get("dissolved_on"), notes=data.get("notes") or None)
        team.place_in(village)
        team.search_name = team_search_name(team.name, village.name)
        db.session.add(team)
        db.session.flush()
        db.session.add(TeamDecision(team_id=team.id, kind="established", decision_number=team.decision_number,
                                    effective_on=team.established_on, recorded_by_id=_user_id()))
        if team.status == "dissolved":
            db.session.add(TeamDecision(team_id=team.id, kind="dissolved", effective_on=team.dissolved_on,
                                        recorded_by_id=_user_id()))
        record("team.create", team, changes=diff({}, snapshot(team, TEAM_FIELDS)))
    return team


@transactional
def update_team(team: Team, data: dict, version: Any) -> Team:
    lock_for_change(teams=[team.id], members=True)  # dissolving ends every current membership
    check_version(team, version)
    village = village_in_area(data.get("village_id"))
    _check_team_dates(data)
    before = snapshot(team, TEAM_FIELDS)
    was = team.status
    decision = (data.get("decision_number") or "").strip() or None
    if data["status"] == "active":
        existing = _active_team_in(village.id, exclude_id=team.id)
        if existing is not None:
            raise _village_taken(village, existing)
    if was == "dissolved" and data["status"] == "active":
        # Re-establishing: a new decision, on or after the dissolution.
        if not decision or decision == team.decision_number:
            raise RuleError("decision_number", _("Enter the number of the decision that re-establishes the team."))
        if not data.get("established_on"):
            raise RuleError("established_on", _("Enter the date the team was re-established."))
        if team.dissolved_on and data["established_on"] < team.dissolved_on:
            raise RuleError("established_on", _("A team is re-established on or after the day it was dissolved."))
    name = (data.get("name") or "").strip() or team.name
    with saving(_on_team_village_taken(village)):
        _backfill_establishment(team)
        team.village_id = village.id
        team.place_in(village)
        team.name = name
        team.search_name = team_search_name(name, village.name)
        team.established_on = data.get("established_on")
        team.decision_number = decision
        team.status = data["status"]
        if not (was == "dissolved" and data["status"] == "active"):
            team.dissolved_on = data.get("dissolved_on")
        else:
            team.dissolved_on = None
        team.notes = data.get("notes") or None
        after = snapshot(team, TEAM_FIELDS)
        changes = diff(before, after)
        kind = None
        if was == "active" and team.status == "dissolved":
            kind, effective = "dissolved", team.dissolved_on
            _end_all_memberships(team, team.dissolved_on)
        elif was == "dissolved" and team.status == "active":
            kind, effective = "re_established", team.established_on
        elif "decision_number" in changes or "established_on" in changes:
            kind, effective = "amended", team.established_on
        if kind:
            db.session.add(TeamDecision(team_id=team.id, kind=kind, decision_number=team.decision_number,
                                        effective_on=effective, recorded_by_id=_user_id()))
        if changes:
            record("team.update", team, changes=changes)
    return team


def _backfill_establishment(team: Team) -> None:
    """Teams loaded without decisions (older data, the demo) get their establishment recorded
    from the row before the row changes, so the history keeps it."""
    known = db.session.scalar(select(TeamDecision.id).where(TeamDecision.team_id == team.id).limit(1))
    if known is None and (team.established_on or team.decision_number):
        db.session.add(TeamDecision(team_id=team.id, kind="established", decision_number=team.decision_number,
                                    effective_on=team.established_on, recorded_by_id=None))


def _end_all_memberships(team: Team, on: date) -> None:
    current = db.session.scalars(
        select(Membership).where(Membership.team_id == team.id, Membership.left_on.is_(None))
    ).all()
    for membership in current:
        membership.left_on = max(on, membership.joined_on)
        record("membership.end", membership,
               details={"person_id": membership.person_id, "team_id": team.id, "left_on": membership.left_on,
                        "reason": "team dissolved"})


# --------------------------------------------------------------------------- people


def _role_holder(team: Team, role: str, exclude_id: int | None = None) -> Membership | None:
    stmt = select(Membership).where(Membership.team_id == team.id, Membership.role == role,
                                    Membership.left_on.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(Membership.id != exclude_id)
    return db.session.scalar(stmt.limit(1))


def _check_role_free(team: Team, role: str, field: str = "role") -> None:
    if role not in ("leader", "deputy"):
        return
    holder = _role_holder(team, role)
    if holder is not None:
        if role == "leader":
            message = _("This team already has a leader: %(name)s. Change the leader on the team's page.",
                        name=holder.person.full_name)
        else:
            message = _("This team already has a deputy leader: %(name)s. Change the deputy on the team's page.",
                        name=holder.person.full_name)
        raise RuleError(field, message)


def _check_team_open(team: Team, field: str = "team_id") -> None:
    if team.status != "active":
        raise RuleError(field, _("This team is dissolved; people cannot join it."))


def _check_joined(joined_on: date | None, field: str = "joined_on") -> date:
    joined_on = joined_on or clock.today()
    if joined_on > clock.today():
        raise RuleError(field, _("The date cannot be in the future."))
    return joined_on


def _facts(data: dict) -> Facts:
    return Facts(full_name=data.get("full_name"), birth_date=data.get("birth_date"), phone=data.get("phone"),
                 citizen_id=data.get("citizen_id"))


def _on_person_duplicate(commune: AdminUnit, data: dict):
    def handler(kind: str) -> None:
        if kind == "person":
            matches = [m for m in find_matches(commune.province_id, _facts(data)) if m.certain]
            if matches:
                raise DuplicateError.among(matches, commune)
        if kind == "membership_role":
            raise RuleError("role", _("This team got a %(role)s in the meantime. Reload the team's page.",
                                      role=str(ROLE_LABELS.get(data.get("role"), "")).lower()))

    return handler


def _fill_person(person: Person, data: dict) -> None:
    person.full_name = " ".join(data["full_name"].split())
    person.search_name = fold(person.full_name)
    person.sort_name = vi_sort_key(person.full_name)
    person.gender = data["gender"]
    person.birth_date = data.get("birth_date")
    person.ethnicity = data["ethnicity"]
    person.phone = data.get("phone")
    if "citizen_id" in data:
        person.citizen_id = data.get("citizen_id")
    person.youth_union = bool(data.get("youth_union"))
    person.position = data.get("position") or None


@transactional
def create_person(data: dict, commune: AdminUnit, team: Team | None = None, role: str = "member",
                  joined_on: date | None = None, different_person: bool = False) -> Person:
    """Register a new person (in `commune`), optionally as a member of `team`.

    A registered person matching them (cdt.registry.matching) raises DuplicateError; when every
    match is only a hint (a shared phone with another name or birth date), `different_person`
    is the user's answer "different person, same phone" and the person is registered."""
    if team is not None:
        lock_for_change(teams=[team.id])
        _check_team_open(team)
        _check_role_free(team, role)
        joined_on = _check_joined(joined_on)
    matches = find_matches(commune.province_id, _facts(data))
    if matches and not (different_person and not any(m.certain for m in matches)):
        raise DuplicateError.among(matches, commune)
    with saving(_on_person_duplicate(commune, {**data, "role": role})):
        person = Person()
        _fill_person(person, data)
        person.place_in(commune)
        db.session.add(person)
        db.session.flush()
        record("person.create", person, changes=diff({}, snapshot(person, PERSON_FIELDS)))
        if team is not None:
            membership = Membership(person_id=person.id, team_id=team.id, role=role, joined_on=joined_on)
            db.session.add(membership)
            db.session.flush()
            record("membership.create", membership,
                   details={"person_id": person.id, "team_id": team.id, "role": role, "joined_on": joined_on})
    return person


def duplicate_field_errors(person: Person, data: dict) -> None:
    """On edit: the new values must not make this person a copy of another one. The other person
    is named only when the user may see them."""
    # A shared phone is allowed (a family's phone); only a certain match is another record.
    matches = [m for m in find_matches(person.province_id, _facts(data), exclude_id=person.id) if m.certain]
    others = [m.person for m in matches]
    shown = {p.id for p in split_by_area(others)[0]}
    for other in others:
        if data.get("citizen_id") and other.citizen_id == data.get("citizen_id"):
            if other.id not in shown:
                raise RuleError("citizen_id", _("A person registered in another area already has this citizen ID."))
            raise RuleError("citizen_id", _("Another person already has this citizen ID: %(name)s.",
                                            name=other.full_name))
        if next(m for m in matches if m.person is other).kind == "phone":
            if other.id not in shown:
                raise RuleError("phone", _("A person registered in another area has the same name and phone number."))
            raise RuleError("phone", _("Another person in the province has the same name and phone number: "
                                       "%(name)s.", name=other.full_name))
        if other.id not in shown:
            raise RuleError("birth_date", _("A person registered in another area has the same name and birth date."))
        raise RuleError("birth_date", _("Another person in the province has the same name and birth date: "
                                        "%(name)s.", name=other.full_name))


@transactional
def update_person(person: Person, data: dict, version: Any) -> Person:
    lock_for_change(people=[person.id])  # a new youth-union mark recounts the person's teams
    check_version(person, version)
    duplicate_field_errors(person, data)
    person_id = person.id

    def handler(kind: str) -> None:
        if kind == "person":
            duplicate_field_errors(db.session.get(Person, person_id) or person, data)

    with saving(handler):
        before = snapshot(person, PERSON_FIELDS)
        _fill_person(person, data)
        changes = diff(before, snapshot(person, PERSON_FIELDS))
        if changes:
            record("person.update", person, changes=changes)
    return person


# --------------------------------------------------------------------------- memberships


def _on_membership(kind_field: dict):
    def handler(kind: str) -> None:
        if kind == "membership_person":
            raise RuleError(kind_field.get("team"), _("This person is already a member of that team."))
        if kind == "membership_role":
            raise RuleError(kind_field.get("role"), _("This team got a leader or deputy in the meantime. "
                                                      "Reload the page."))

    return handler


def _already_member(person: Person, team: Team) -> bool:
    return db.session.scalar(select(Membership.id).where(
        Membership.person_id == person.id, Membership.team_id == team.id, Membership.left_on.is_(None)
    ).limit(1)) is not None


@transactional
def add_membership(person: Person, team: Team, role: str = "member", joined_on: date | None = None) -> Membership:
    """Add an existing person to a (further) team."""
    lock_for_change(teams=[team.id], people=[person.id])
    _check_team_open(team)
    if _already_member(person, team):
        raise RuleError("team_id", _("This person is already a member of that team."))
    _check_role_free(team, role)
    joined_on = _check_joined(joined_on)
    with saving(_on_membership({"team": "team_id", "role": "role"})):
        membership = Membership(person_id=person.id, team_id=team.id, role=role, joined_on=joined_on)
        db.session.add(membership)
        db.session.flush()
        record("membership.create", membership,
               details={"person_id": person.id, "team_id": team.id, "role": role, "joined_on": joined_on})
    return membership


@transactional
def end_membership(membership: Membership, left_on: date | None) -> Membership:
    lock_for_change(teams=[membership.team_id], people=[membership.person_id])
    if membership.left_on is not None:
        raise RuleError("left_on", _("This membership has already ended."))
    left_on = left_on or clock.today()
    if left_on > clock.today():
        raise RuleError("left_on", _("The date cannot be in the future."))
    if left_on < membership.joined_on:
        raise RuleError("left_on", _("The end date cannot be before the person joined (%(day)s).",
                                     day=membership.joined_on.strftime("%d/%m/%Y")))
    with saving():
        membership.left_on = left_on
        record("membership.end", membership, details={"person_id": membership.person_id,
                                                      "team_id": membership.team_id, "left_on": left_on})
    return membership


@transactional
def move_membership(membership: Membership, team: Team, on: date | None) -> Membership:
    """End `membership` on `on` and start a plain membership of `team` the same day."""
    lock_for_change(teams=[membership.team_id, team.id], people=[membership.person_id])
    if membership.left_on is not None:
        raise RuleError("team_id", _("This membership has already ended."))
    if team.id == membership.team_id:
        raise RuleError("team_id", _("Choose a different team."))
    _check_team_open(team)
    person = membership.person
    if _already_member(person, team):
        raise RuleError("team_id", _("This person is already a member of that team."))
    on = on or clock.today()
    if on > clock.today():
        raise RuleError("moved_on", _("The date cannot be in the future."))
    if on < membership.joined_on:
        raise RuleError("moved_on", _("The date cannot be before the person joined (%(day)s).",
                                      day=membership.joined_on.strftime("%d/%m/%Y")))
    with saving(_on_membership({"team": "team_id"})):
        membership.left_on = on
        moved = Membership(person_id=person.id, team_id=team.id, role="member", joined_on=on)
        db.session.add(moved)
        db.session.flush()
        record("membership.move", moved,
               details={"person_id": person.id, "from_team_id": membership.team_id, "to_team_id": team.id,
                        "on": on, "ended_membership_id": membership.id})
    return moved


@transactional
def set_role(team: Team, membership: Membership, role: str,
             leave_without_leader: bool = False) -> list[tuple[Membership, str, str]]:
    """Make a current member the team's leader (or deputy) in one step: whoever held the role
    becomes a plain member. Simultaneous changes of one team's roles apply one after the other
    (the team's row is locked first), each to the roles the previous one left.

    Making the leader the deputy leaves the team without a leader: refused (RuleError on
    `leave_without_leader`) unless the user confirmed it. Returns what changed, for everyone
    affected: (membership, old role, new role)."""
    lock_for_change(teams=[team.id], members=True)
    if membership.team_id != team.id or membership.left_on is not None:
        raise RuleError("membership_id", _("Choose a current member of this team."))
    if membership.role == role:
        return []
    if membership.role == "leader" and not leave_without_leader:
        raise RuleError("leave_without_leader", _(
            "%(name)s is the team's leader: making them the deputy leaves the team without a leader. "
            "Confirm it, or change the leader first.", name=membership.person.full_name))
    changes: list[tuple[Membership, str, str]] = []
    holder = _role_holder(team, role)
    with saving(_on_membership({"role": "membership_id"})):
        if holder is not None:
            holder.role = "member"
            record("membership.update", holder, changes={"role": [role, "member"]},
                   details={"person_id": holder.person_id, "team_id": team.id})
            changes.append((holder, role, "member"))
            # Free the slot before taking it: the unique index is checked row by row.
            db.session.flush()
        old = membership.role
        membership.role = role
        record("membership.update", membership, changes={"role": [old, role]},
               details={"person_id": membership.person_id, "team_id": team.id})
        changes.append((membership, old, role))
    return changes
