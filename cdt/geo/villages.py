"""Merging, splitting, renaming and moving villages: dated, audited, undoable.

The province (its staff, or an admin) changes villages from time to time; every figure for a day
must use the villages as they were that day, so each change is dated (its first day `on`, today at
the latest) and keeps the history:
- merge: villages of one commune go into one of them (the continuing village; its team continues,
  renamed if asked). The others end the day before (`valid_to = on - 1`), their teams are
  dissolved on `on` (their memberships end; with `move_members` their people join the continuing
  team on `on`). Coverage on a day before `on` counts every village and team as they were.
- split: a village continues (renamed if asked) and new villages of the same commune begin on
  `on` (codes `<commune code>-<next number>`; no team yet).
- rename: the village's name from `on` (the name a page shows is the latest; the history keeps
  the old one).
- move: the village (and its teams) lies in another commune from `on` (a new dated placement,
  cdt.geo.models.VillagePlace); figures before `on` stay where they were.
- undo: the latest change of its villages is reversed exactly, as if it had not been made, and the
  undo is recorded as a change of its own (its day: the day of the change it reverses).

One VillageChange row and one audit event per change (field names and codes, never personal
values). Every function here runs in the caller's unit of work (`@transactional`); a broken rule
raises cdt.core.rules.RuleError naming the form field, and nothing is changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, select, update

from cdt.audit.service import record
from cdt.auth.scope import area_condition
from cdt.core import clock
from cdt.core.rules import RuleError
from cdt.core.transactions import transactional
from cdt.extensions import db
from cdt.geo.models import AdminUnit, VillageChange, VillagePlace
from cdt.geo.within import valid_on, within

MAX_NEW_VILLAGES = 20


def _fmt(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _user_id() -> int | None:
    return getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None


# --------------------------------------------------------------------------- reading


def villages_today(commune: AdminUnit) -> list[AdminUnit]:
    """The villages of `commune` today (valid today, placed in it today), by name; in the user's area."""
    today = clock.today()
    return list(db.session.scalars(
        select(AdminUnit).where(AdminUnit.level == "village", valid_on(AdminUnit, today),
                                within(AdminUnit, commune, today), area_condition(AdminUnit))
        .order_by(AdminUnit.name, AdminUnit.code)))


def communes_today(commune: AdminUnit) -> list[AdminUnit]:
    """Communes of today's map in `commune`'s province and in the user's area (a move's targets),
    other than `commune`, by name."""
    return list(db.session.scalars(
        select(AdminUnit).where(AdminUnit.level == "commune", AdminUnit.province_id == commune.province_id,
                                AdminUnit.id != commune.id, valid_on(AdminUnit, clock.today()),
                                area_condition(AdminUnit))
        .order_by(AdminUnit.name)))


def changes_of(commune: AdminUnit) -> list[VillageChange]:
    """The village changes made in `commune` (or moving a village into it), latest first."""
    return list(db.session.scalars(
        select(VillageChange).where((VillageChange.commune_id == commune.id)
                                    | (VillageChange.other_commune_id == commune.id))
        .order_by(VillageChange.id.desc())))


def _village(commune: AdminUnit, village_id: int | None, field_name: str) -> AdminUnit:
    """A village of `commune` today, in the user's area; RuleError on `field_name` otherwise."""
    village = None
    if village_id:
        today = clock.today()
        village = db.session.scalar(select(AdminUnit).where(
            AdminUnit.id == village_id, AdminUnit.level == "village", valid_on(AdminUnit, today),
            within(AdminUnit, commune, today), area_condition(AdminUnit)))
    if village is None:
        raise RuleError(field_name, _("Choose a village of this commune."))
    return village


def _open_place(village: AdminUnit) -> VillagePlace:
    """The village's current placement (a village loaded without one gets it from its columns)."""
    place = db.session.scalar(select(VillagePlace).where(VillagePlace.village_id == village.id,
                                                         VillagePlace.valid_to.is_(None))
                              .order_by(VillagePlace.valid_from.desc()).limit(1))
    if place is None:
        place = VillagePlace(village_id=village.id, province_id=village.province_id, district_id=village.district_id,
                             commune_id=village.commune_id, valid_from=village.valid_from, valid_to=None)
        db.session.add(place)
        db.session.flush()
    return place


def _live_changes(province_id: int, after_id: int = 0) -> list[VillageChange]:
    """The changes in a province not undone (and not undos), after the change `after_id`."""
    return list(db.session.scalars(select(VillageChange).where(
        VillageChange.province_id == province_id, VillageChange.kind != "undo",
        VillageChange.undone_by_id.is_(None), VillageChange.id > after_id)))


def _check_day(villages: list[AdminUnit], on: date | None) -> date:
    """`on` is a day the change may begin for these villages: not in the future, after each
    village began and after its current placement began, and not before its latest change."""
    if on is None:
        raise RuleError("on", _("This field is required."))
    if on > clock.today():
        raise RuleError("on", _("The date cannot be in the future."))
    ids = {v.id for v in villages}
    for village in villages:
        if village.valid_from is not None and on <= village.valid_from:
            raise RuleError("on", _("%(village)s exists only from %(day)s: choose a later date.",
                                    village=village.name, day=_fmt(village.valid_from)))
        place = _open_place(village)
        if place.valid_from is not None and on <= place.valid_from:
            raise RuleError("on", _("%(village)s lies in its commune only from %(day)s: choose a later date.",
                                    village=village.name, day=_fmt(place.valid_from)))
    for change in _live_changes(villages[0].province_id):
        if ids & set(change.details.get("villages", [])) and on < change.on:
            raise RuleError("on", _("These villages changed on %(day)s: choose that date or a later one.",
                                    day=_fmt(change.on)))
    return on


def _check_name(name: str | None, field_name: str = "name") -> str | None:
    name = " ".join((name or "").split())
    if len(name) > 120:
        raise RuleError(field_name, _("A name can be at most %(max)d characters long.", max=120))
    return name or None


def _active_team(village_id: int):
    from cdt.registry.models import Team

    return db.session.scalar(select(Team).where(Team.village_id == village_id, Team.status == "active").limit(1))


def _current_people(team_id: int) -> list[tuple[int, int]]:
    """(membership id, person id) of a team's current memberships."""
    from cdt.registry.models import Membership

    return list(db.session.execute(select(Membership.id, Membership.person_id).where(
        Membership.team_id == team_id, Membership.left_on.is_(None)).order_by(Membership.id)).all())


def _new_change(kind: str, on: date, village: AdminUnit, details: dict, other_commune_id: int | None = None,
                undoes_id: int | None = None) -> VillageChange:
    change = VillageChange(kind=kind, on=on, village_id=village.id, province_id=village.province_id,
                           district_id=village.district_id, commune_id=village.commune_id,
                           other_commune_id=other_commune_id, details=details, undoes_id=undoes_id,
                           user_id=_user_id())
    db.session.add(change)
    db.session.flush()
    return change


def _audit(change: VillageChange, village: AdminUnit, changed: list[str], **extra) -> None:
    """One audit event per change: codes, the day and the names of the fields changed."""
    record(f"village.{change.kind}", village, changes={name: True for name in changed},
           details={"change_id": change.id, "on": change.on.isoformat(), **extra})


# --------------------------------------------------------------------------- merge


@dataclass
class MergePlan:
    commune: AdminUnit
    target: AdminUnit
    others: list[AdminUnit]
    on: date
    name: str | None
    move_members: bool
    team: object | None  # the continuing team (the target's active team), if any
    dissolved: list[tuple[object, int]] = field(default_factory=list)  # (team, its current members)
    moving: int = 0  # people who join the continuing team

    @property
    def last_day(self) -> date:
        """The last day of the villages merged into the continuing one."""
        return self.on - timedelta(days=1)


def plan_merge(commune: AdminUnit, target_id: int | None, other_ids: list[int], on: date | None,
               name: str | None, move_members: bool) -> MergePlan:
    """What a merge would do (nothing written); RuleError on bad input."""
    target = _village(commune, target_id, "target")
    if not other_ids:
        raise RuleError("others", _("Choose at least one village to merge into it."))
    if target.id in other_ids:
        raise RuleError("others", _("A village cannot be merged with itself."))
    others = [_village(commune, other_id, "others") for other_id in dict.fromkeys(other_ids)]
    on = _check_day([target, *others], on)
    name = _check_name(name)
    team = _active_team(target.id)
    plan = MergePlan(commune, target, others, on, name, move_members, team)
    for current in [team] if team is not None else []:
        if current.established_on is not None and current.established_on > on:
            raise RuleError("on", _("%(team)s was established after that date.", team=current.name))
    in_target = {person for _m, person in _current_people(team.id)} if team is not None else set()
    moving: set[int] = set()
    for other in others:
        dissolved = _active_team(other.id)
        if dissolved is None:
            continue
        if dissolved.established_on is not None and dissolved.established_on > on:
            raise RuleError("on", _("%(team)s was established after that date.", team=dissolved.name))
        people = _current_people(dissolved.id)
        plan.dissolved.append((dissolved, len(people)))
        moving |= {person for _m, person in people} - in_target
    if move_members and moving and team is None:
        raise RuleError("move_members", _("The continuing village has no active team to move the members to."))
    plan.moving = len(moving) if move_members else 0
    return plan


@transactional
def merge(plan_args: dict) -> VillageChange:
    """Merge villages (arguments of plan_merge, checked again in this transaction)."""
    from cdt.core.text import team_search_name
    from cdt.registry.models import Membership, Team, TeamDecision
    from cdt.reports.models import lock_for_change

    plan = plan_merge(**plan_args)
    team_ids = [t.id for t, _n in plan.dissolved] + ([plan.team.id] if plan.team is not None else [])
    lock_for_change(teams=team_ids, members=True)
    plan = plan_merge(**plan_args)  # read again under the locks
    on, last = plan.on, plan.on - timedelta(days=1)
    details: dict = {"villages": [plan.target.id, *[v.id for v in plan.others]],
                     "codes": [plan.target.code, *[v.code for v in plan.others]],
                     "ended": [], "teams": [], "ended_memberships": [], "new_memberships": [],
                     "old_name": plan.target.name, "new_name": plan.name}
    for other in plan.others:
        place = _open_place(other)
        details["ended"].append({"village": other.id, "place": place.id})
        other.valid_to = last
        place.valid_to = last
    target_team = plan.team
    joined: set[int] = ({person for _m, person in _current_people(target_team.id)}
                        if target_team is not None else set())
    for dissolved, _n in plan.dissolved:
        details["teams"].append({"team": dissolved.id, "status": dissolved.status,
                                 "dissolved_on": dissolved.dissolved_on.isoformat() if dissolved.dissolved_on else None})
        for membership in db.session.scalars(select(Membership).where(
                Membership.team_id == dissolved.id, Membership.left_on.is_(None)).order_by(Membership.id)):
            membership.left_on = max(on, membership.joined_on)
            details["ended_memberships"].append(membership.id)
            if plan.move_members and target_team is not None and membership.person_id not in joined:
                joined.add(membership.person_id)
                moved = Membership(person_id=membership.person_id, team_id=target_team.id, role="member",
                                   joined_on=max(on, membership.joined_on))
                db.session.add(moved)
                db.session.flush()
                details["new_memberships"].append(moved.id)
        dissolved.status, dissolved.dissolved_on = "dissolved", on
        decision = TeamDecision(team_id=dissolved.id, kind="dissolved", effective_on=on, recorded_by_id=_user_id())
        db.session.add(decision)
        db.session.flush()
        details["teams"][-1]["decision"] = decision.id
    changed = ["valid_to"]
    if plan.name and plan.name != plan.target.name:
        plan.target.name = plan.name
        for team in db.session.scalars(select(Team).where(Team.village_id == plan.target.id)):
            team.search_name = team_search_name(team.name, plan.name)
        changed.append("name")
    else:
        details["new_name"] = None
    change = _new_change("merge", on, plan.target, details)
    _audit(change, plan.target, changed, villages=details["codes"], teams_dissolved=len(plan.dissolved),
           members_moved=len(details["new_memberships"]))
    return change


# --------------------------------------------------------------------------- split


def _next_numbers(commune: AdminUnit, count: int) -> list[int]:
    """The next free village numbers under the commune's code (codes are never reused)."""
    prefix = f"{commune.code}-"
    codes = db.session.scalars(select(AdminUnit.code).where(AdminUnit.level == "village",
                                                            AdminUnit.code.startswith(prefix, autoescape=True)))
    highest = max((int(code[len(prefix):]) for code in codes if code[len(prefix):].isdigit()), default=0)
    return list(range(highest + 1, highest + 1 + count))


def parse_names(text: str | None) -> list[str]:
    """The new villages' names, one per line (blank lines left out)."""
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


@transactional
def split(commune: AdminUnit, village_id: int | None, on: date | None, names: list[str],
          name: str | None = None) -> VillageChange:
    """Split a village: it continues (renamed when `name` is given) and new villages begin on `on`."""
    village = _village(commune, village_id, "village")
    if not names:
        raise RuleError("names", _("Enter the name of at least one new village."))
    if len(names) > MAX_NEW_VILLAGES:
        raise RuleError("names", _("At most %(num)d new villages at a time.", num=MAX_NEW_VILLAGES))
    for new_name in names:
        _check_name(new_name, "names")
    taken = {v.name.casefold() for v in villages_today(commune)} - {village.name.casefold()}
    if len({n.casefold() for n in names}) < len(names) or taken & {n.casefold() for n in names}:
        raise RuleError("names", _("Each village of a commune needs its own name."))
    on = _check_day([village], on)
    name = _check_name(name)
    place = _open_place(village)
    created = []
    for number, new_name in zip(_next_numbers(commune, len(names)), names, strict=True):
        unit = AdminUnit(code=f"{commune.code}-{number:03d}", name=new_name, level="village", kind=village.kind,
                         parent_id=commune.id, province_id=place.province_id, district_id=place.district_id,
                         commune_id=place.commune_id, valid_from=on)
        db.session.add(unit)
        db.session.flush()
        db.session.add(VillagePlace(village_id=unit.id, province_id=place.province_id, district_id=place.district_id,
                                    commune_id=place.commune_id, valid_from=on))
        created.append(unit)
    details = {"villages": [village.id, *[u.id for u in created]], "codes": [village.code, *[u.code for u in created]],
               "created": [u.id for u in created], "old_name": village.name, "new_name": None}
    changed = ["valid_from"]
    if name and name != village.name:
        _rename(village, name)
        details["new_name"] = name
        changed.append("name")
    change = _new_change("split", on, village, details)
    _audit(change, village, changed, villages=details["codes"])
    return change


def _rename(village: AdminUnit, name: str) -> None:
    from cdt.core.text import team_search_name
    from cdt.registry.models import Team

    village.name = name
    for team in db.session.scalars(select(Team).where(Team.village_id == village.id)):
        team.search_name = team_search_name(team.name, name)


# --------------------------------------------------------------------------- rename, move


@transactional
def rename(commune: AdminUnit, village_id: int | None, on: date | None, name: str | None) -> VillageChange:
    village = _village(commune, village_id, "village")
    name = _check_name(name)
    if not name:
        raise RuleError("name", _("This field is required."))
    if name == village.name:
        raise RuleError("name", _("Enter a name different from the current one."))
    on = _check_day([village], on)
    details = {"villages": [village.id], "codes": [village.code], "old_name": village.name, "new_name": name}
    _rename(village, name)
    change = _new_change("rename", on, village, details)
    _audit(change, village, ["name"], villages=details["codes"])
    return change


def _place_rows(village_id: int, unit: AdminUnit | VillagePlace) -> None:
    """The village's and its teams' ancestor columns from `unit` (team_stat follows by its triggers)."""
    from cdt.registry.models import Team

    values = {"province_id": unit.province_id, "district_id": unit.district_id, "commune_id": unit.commune_id}
    db.session.execute(update(AdminUnit).where(AdminUnit.id == village_id)
                       .values(parent_id=unit.commune_id, **values), execution_options={"synchronize_session": False})
    db.session.execute(update(Team).where(Team.village_id == village_id).values(**values),
                       execution_options={"synchronize_session": False})


@transactional
def move(commune: AdminUnit, village_id: int | None, on: date | None, target_id: int | None) -> VillageChange:
    """The village lies in the commune `target_id` from `on` (same province, today's map, the user's area)."""
    from cdt.registry.models import Team
    from cdt.reports.models import lock_for_change

    village = _village(commune, village_id, "village")
    target = next((c for c in communes_today(commune) if c.id == target_id), None) if target_id else None
    if target is None:
        raise RuleError("target", _("Choose another commune of the province."))
    on = _check_day([village], on)
    if target.valid_from is not None and on < target.valid_from:
        raise RuleError("on", _("%(village)s exists only from %(day)s: choose a later date.",
                                village=target.name, day=_fmt(target.valid_from)))
    lock_for_change(teams=list(db.session.scalars(select(Team.id).where(Team.village_id == village.id))))
    village = db.session.get(AdminUnit, village.id)
    place = _open_place(village)
    place.valid_to = on - timedelta(days=1)
    new = VillagePlace(village_id=village.id, province_id=target.province_id, district_id=target.district_id,
                       commune_id=target.id, valid_from=on)
    db.session.add(new)
    db.session.flush()
    details = {"villages": [village.id], "codes": [village.code], "old_place": place.id, "new_place": new.id,
               "communes": [commune.code, target.code]}
    change = _new_change("move", on, village, details, other_commune_id=target.id)
    _place_rows(village.id, target)
    db.session.expire_all()
    village = db.session.get(AdminUnit, village.id)
    _audit(change, village, ["commune"], villages=details["codes"], communes=details["communes"])
    return change


# --------------------------------------------------------------------------- undo


def change_in_area_or_404(change_id: int) -> VillageChange:
    from cdt.auth.scope import get_in_area_or_404

    return get_in_area_or_404(VillageChange, change_id)


@transactional
def undo(change_id: int) -> VillageChange:
    """Reverse a change exactly (it must be the latest change of its villages) and record the undo."""
    from cdt.registry.models import Membership, Team, TeamDecision
    from cdt.reports.models import lock_for_change

    change = change_in_area_or_404(change_id)
    if change.kind == "undo" or change.undone_by_id is not None:
        raise RuleError(None, _("This change has already been undone."))
    ids = set(change.details.get("villages", []))
    if any(ids & set(later.details.get("villages", [])) for later in _live_changes(change.province_id, change.id)):
        raise RuleError(None, _("These villages changed again later: undo the later change first."))
    details = change.details
    village = db.session.get(AdminUnit, change.village_id)
    changed: list[str] = []
    if change.kind == "merge":
        team_ids = [t["team"] for t in details["teams"]]
        target_team = _active_team(village.id)
        lock_for_change(teams=team_ids + ([target_team.id] if target_team is not None else []), members=True)
        village = db.session.get(AdminUnit, change.village_id)
        db.session.execute(delete(Membership).where(Membership.id.in_(details["new_memberships"] or [0])))
        db.session.execute(update(Membership).where(Membership.id.in_(details["ended_memberships"] or [0]))
                           .values(left_on=None), execution_options={"synchronize_session": False})
        for team in details["teams"]:
            row = db.session.get(Team, team["team"])
            if _active_team(row.village_id) is not None and team["status"] == "active":
                raise RuleError(None, _("A merged village has an active team again: undo is not possible."))
            row.status = team["status"]
            row.dissolved_on = date.fromisoformat(team["dissolved_on"]) if team["dissolved_on"] else None
            db.session.execute(delete(TeamDecision).where(TeamDecision.id == team["decision"]))
        for ended in details["ended"]:
            db.session.get(AdminUnit, ended["village"]).valid_to = None
            db.session.get(VillagePlace, ended["place"]).valid_to = None
        changed.append("valid_to")
    elif change.kind == "split":
        created = details["created"]
        if db.session.scalar(select(func.count()).select_from(Team).where(Team.village_id.in_(created))):
            raise RuleError(None, _("A village made by this split has a team now: undo is not possible."))
        db.session.execute(delete(VillagePlace).where(VillagePlace.village_id.in_(created)))
        db.session.flush()
        db.session.execute(delete(AdminUnit).where(AdminUnit.id.in_(created)))
        changed.append("valid_from")
    elif change.kind == "move":
        old = db.session.get(VillagePlace, details["old_place"])
        lock_for_change(teams=list(db.session.scalars(select(Team.id).where(Team.village_id == village.id))))
        old = db.session.get(VillagePlace, details["old_place"])
        db.session.execute(delete(VillagePlace).where(VillagePlace.id == details["new_place"]))
        old.valid_to = None
        db.session.flush()
        _place_rows(change.village_id, old)
        db.session.expire_all()
        village = db.session.get(AdminUnit, change.village_id)
        changed.append("commune")
    if details.get("new_name"):
        _rename(village, details["old_name"])
        changed.append("name")
    undone = db.session.get(VillageChange, change_id)
    reverse = _new_change("undo", undone.on, village, {"villages": sorted(ids), "codes": details.get("codes", []),
                                                        "undoes": undone.kind},
                          other_commune_id=undone.other_commune_id, undoes_id=undone.id)
    reverse.commune_id, reverse.district_id, reverse.province_id = undone.commune_id, undone.district_id, \
        undone.province_id
    undone.undone_by_id = reverse.id
    _audit(reverse, village, changed, undoes=undone.kind, undoes_change_id=undone.id)
    return reverse
