"""Applying the 2025 reform to existing data (`flask cdt units reform`).

- Villages of old communes merged whole (or kept) are placed in the successor commune from
  2025-07-01: their placement until 2025-06-30 is closed, a new one opened (cdt.geo.models.
  VillagePlace), and the ancestor columns of the village and its teams (team_stat follows by
  its triggers) point to the new commune. Figures for any date before the reform do not move.
- Villages of split communes (an old commune under several new ones) need a decision: a CSV
  `village_code,new_commune_code` names the successor of each; the others are listed.
- People registered by an old commune move to its successor (split: to the commune of their
  current team's village once it is placed; else they stay, listed).
- Accounts: commune officers, coordinators and province staff whose area is an old commune or
  province with one successor are re-pointed to it; accounts of abolished districts are listed
  for the admin and keep read access to their old district's villages (cdt/geo/within.py reads an
  ended unit on its last day) until reassigned.
- One audit event per change: a village placed (its teams and its commune's people follow it, as
  teams follow their village whenever it moves), an account re-pointed.

Running it again changes nothing: only what is still on the old map is considered.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, insert, literal, select, update
from sqlalchemy.orm import aliased

from cdt.audit.service import record
from cdt.extensions import db
from cdt.geo.models import AdminUnit, UnitSuccession, VillagePlace
from cdt.geo.queries import unit_by_code
from cdt.geo.reform2025 import NEW_MAP_FROM, OLD_MAP_TO


class ReformError(ValueError):
    """A bad decision file or province code: nothing is changed."""


@dataclass
class Plan:
    province: AdminUnit | None
    # village id -> (village code, old commune, new commune)
    placements: dict[int, tuple[str, AdminUnit, AdminUnit]] = field(default_factory=dict)
    # village code, village name, old commune, its successors: waiting for a decision
    undecided: list[tuple[str, str, AdminUnit, list[AdminUnit]]] = field(default_factory=list)
    accounts: list[tuple[object, AdminUnit, AdminUnit]] = field(default_factory=list)  # user, old, new
    district_accounts: list[tuple[object, AdminUnit, list[AdminUnit]]] = field(default_factory=list)
    people: int = 0
    people_left: int = 0
    commune_successors: dict[int, list[int]] = field(default_factory=dict)  # old commune id -> new ids


def _successor_map(province: AdminUnit | None) -> dict[int, list[int]]:
    """old unit id -> successor ids (communes and provinces), inside a new province or all."""
    New = aliased(AdminUnit)
    stmt = select(UnitSuccession.predecessor_id, UnitSuccession.successor_id).join(
        New, New.id == UnitSuccession.successor_id)
    if province is not None:
        stmt = stmt.where(New.province_id == province.id)
    found: dict[int, list[int]] = defaultdict(list)
    for old_id, new_id in db.session.execute(stmt):
        found[old_id].append(new_id)
    return found


def read_decisions(text: str) -> dict[str, str]:
    """village_code -> new_commune_code from a CSV with that header (codes as text)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or {"village_code", "new_commune_code"} - {f.strip() for f in reader.fieldnames}:
        raise ReformError("the decision file needs the header village_code,new_commune_code")
    decisions = {}
    for number, row in enumerate(reader, start=2):
        village, commune = (row.get("village_code") or "").strip(), (row.get("new_commune_code") or "").strip()
        if not village or not commune:
            raise ReformError(f"line {number}: a village code and a new commune code are needed")
        decisions[village] = commune
    return decisions


def plan(province_code: str | None = None, decisions: dict[str, str] | None = None) -> Plan:
    """What the reform would change (nothing is written)."""
    from cdt.auth.models import User

    decisions = decisions or {}
    province = None
    if province_code:
        province = unit_by_code(province_code, NEW_MAP_FROM, level="province")
        if province is None or province.valid_from != NEW_MAP_FROM:
            raise ReformError(f"no province {province_code} on the map from {NEW_MAP_FROM.isoformat()}")
    result = Plan(province)
    succ = _successor_map(province)
    units = {u.id: u for u in db.session.scalars(
        select(AdminUnit).where(AdminUnit.id.in_({i for ids in succ.values() for i in ids} | set(succ))))}
    result.commune_successors = {old: new for old, new in succ.items() if units[old].level == "commune"}

    Commune = aliased(AdminUnit)
    villages = db.session.execute(
        select(AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.commune_id)
        .join(Commune, Commune.id == AdminUnit.commune_id)
        .where(AdminUnit.level == "village", Commune.valid_to == OLD_MAP_TO, AdminUnit.commune_id.in_(list(succ)))
        .order_by(AdminUnit.code)
    ).all()
    seen_codes = set()
    for village_id, code, name, commune_id in villages:
        seen_codes.add(code)
        old, targets = units[commune_id], sorted((units[i] for i in succ[commune_id]), key=lambda u: u.code)
        chosen = targets[0] if len(targets) == 1 else None
        if chosen is None and code in decisions:
            chosen = next((t for t in targets if t.code == decisions[code]), None)
            if chosen is None:
                raise ReformError(f"village {code}: {decisions[code]} is not a successor of {old.code} "
                                  f"({', '.join(t.code for t in targets)})")
        if chosen is None:
            result.undecided.append((code, name, old, targets))
        else:
            result.placements[village_id] = (code, old, chosen)
    unknown = sorted(set(decisions) - seen_codes)
    if unknown:
        raise ReformError(f"not a village of a reformed commune: {', '.join(unknown[:10])}")

    for user in db.session.scalars(select(User).join(AdminUnit, AdminUnit.id == User.area_id)
                                   .where(AdminUnit.valid_to == OLD_MAP_TO).order_by(User.username)):
        area = user.area
        if area.level == "district":
            if province is None or area.province_id in succ:
                from cdt.geo.queries import successors

                result.district_accounts.append((user, area, successors(area)))
            continue
        targets = succ.get(area.id, [])
        if len(targets) == 1:
            result.accounts.append((user, area, units[targets[0]]))
    return result


def _people_moves(result: Plan) -> dict[int, tuple[int, int]]:
    """person id -> (old commune id, new commune id) for people registered by a reformed commune:
    its successor, or for a split commune the commune of their current team's village once that
    village is placed on the new map. Called after the villages are placed."""
    from cdt.registry.models import Membership, Person, Team

    successors = result.commune_successors
    moves: dict[int, tuple[int, int]] = {}
    split = [old for old, new in successors.items() if len(new) > 1]
    for person_id, commune_id in db.session.execute(
            select(Person.id, Person.commune_id).where(Person.commune_id.in_(list(successors)))):
        if len(successors[commune_id]) == 1:
            moves[person_id] = (commune_id, successors[commune_id][0])
    if split:
        Village, Commune = aliased(AdminUnit), aliased(AdminUnit)
        rows = db.session.execute(
            select(Person.id, Person.commune_id, Village.commune_id)
            .join(Membership, and_(Membership.person_id == Person.id, Membership.left_on.is_(None)))
            .join(Team, Team.id == Membership.team_id)
            .join(Village, Village.id == Team.village_id)
            .join(Commune, Commune.id == Village.commune_id)
            .where(Person.commune_id.in_(split), Commune.valid_to.is_(None)).order_by(Person.id, Membership.id))
        for person_id, commune_id, new_id in rows:
            if person_id not in moves and new_id in successors[commune_id]:
                moves[person_id] = (commune_id, new_id)
    return _without_duplicates(moves, result)


def _without_duplicates(moves: dict[int, tuple[int, int]], result: Plan) -> dict[int, tuple[int, int]]:
    """Leave out the people who would break a duplicate rule in their new province (same phone, or
    same name and birth date, as another person there: registry/rules.py); they are counted in
    `people_left` for the officers to resolve (they stay where they are)."""
    from cdt.registry.models import Person

    province_of = dict(db.session.execute(select(AdminUnit.id, AdminUnit.province_id).where(
        AdminUnit.id.in_({unit for move in moves.values() for unit in move}))).all())
    target = {pid: province_of[new] for pid, (_old, new) in moves.items()}
    provinces = set(target.values()) | {province_of[old] for old, _new in moves.values()}
    if not moves:
        return moves
    keys: dict[tuple, list[int]] = defaultdict(list)
    stmt = select(Person.id, Person.province_id, Person.phone, Person.search_name, Person.birth_date).where(
        Person.province_id.in_(provinces))
    for pid, province_id, phone, name, birth in db.session.execute(stmt):
        province_id = target.get(pid, province_id)
        if phone:
            keys[(province_id, "phone", phone)].append(pid)
        if birth:
            keys[(province_id, "name", name, birth)].append(pid)
    clashing = {pid for ids in keys.values() if len(ids) > 1 for pid in ids if pid in moves}
    result.people_left = len(clashing)
    return {pid: move for pid, move in moves.items() if pid not in clashing}


def apply(result: Plan, actor=None) -> None:
    """Write the plan in the caller's transaction (commit afterwards)."""
    from cdt.registry.models import Person, Team

    by_target: dict[int, list[int]] = defaultdict(list)
    for village_id, (_code, _old, new) in result.placements.items():
        by_target[new.id].append(village_id)
    village_ids = list(result.placements)
    for start in range(0, len(village_ids), 500):
        chunk = village_ids[start:start + 500]
        # A village made without a placement row (bulk loads) gets the one its columns hold.
        db.session.execute(insert(VillagePlace).from_select(
            ["village_id", "province_id", "district_id", "commune_id", "valid_from", "valid_to"],
            select(AdminUnit.id, AdminUnit.province_id, AdminUnit.district_id, AdminUnit.commune_id,
                   AdminUnit.valid_from, AdminUnit.valid_to)
            .where(AdminUnit.id.in_(chunk),
                   ~select(VillagePlace.id).where(VillagePlace.village_id == AdminUnit.id).exists())))
        db.session.execute(update(VillagePlace).where(
            VillagePlace.village_id.in_(chunk), VillagePlace.valid_to.is_(None)).values(valid_to=OLD_MAP_TO),
            execution_options={"synchronize_session": False})
    for new_id, ids in by_target.items():
        new = db.session.get(AdminUnit, new_id)
        values = {"province_id": new.province_id, "district_id": None, "commune_id": new.id}
        db.session.execute(insert_places(ids, new))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            db.session.execute(update(AdminUnit).where(AdminUnit.id.in_(chunk)).values(parent_id=new.id, **values),
                               execution_options={"synchronize_session": False})
            db.session.execute(update(Team).where(Team.village_id.in_(chunk)).values(**values),
                               execution_options={"synchronize_session": False})
    _audit_rows(actor, [
        ("village.place", "admin_unit", village_id, new.province_id,
         {"code": code, "commune": [old.code, new.code], "from": NEW_MAP_FROM.isoformat()})
        for village_id, (code, old, new) in result.placements.items()
    ])

    moves = _people_moves(result)
    result.people = len(moves)
    by_commune: dict[int, list[int]] = defaultdict(list)
    for person_id, (_old, new_id) in moves.items():
        by_commune[new_id].append(person_id)
    for new_id, ids in by_commune.items():
        new = db.session.get(AdminUnit, new_id)
        for start in range(0, len(ids), 500):
            db.session.execute(update(Person).where(Person.id.in_(ids[start:start + 500])).values(
                province_id=new.province_id, district_id=None, commune_id=new.id),
                execution_options={"synchronize_session": False})
    _sessions_follow(result)
    for user, old, new in result.accounts:
        user.area_id = new.id
        user.area = new
        record("user.repoint", user, user=actor, changes={"area": [old.code, new.code]})
    db.session.flush()
    db.session.expire_all()


def _sessions_follow(result: Plan) -> None:
    """Training sessions serving an old unit count, on the new map, in its successor: the commune's
    one successor, or the new province of the district or province (when there is one)."""
    from cdt.training.models import TrainingSession

    Area, Old = aliased(AdminUnit), aliased(AdminUnit)
    province_successor: dict[int, list[int]] = defaultdict(list)
    for old_id, new_id in db.session.execute(
            select(UnitSuccession.predecessor_id, UnitSuccession.successor_id)
            .join(Old, Old.id == UnitSuccession.predecessor_id).where(Old.level == "province")):
        province_successor[old_id].append(new_id)
    communes = {old: new for old, new in result.commune_successors.items() if len(new) == 1}
    new_province = dict(db.session.execute(select(AdminUnit.id, AdminUnit.province_id).where(
        AdminUnit.id.in_({n[0] for n in communes.values()}))).all())
    sessions = db.session.execute(
        select(TrainingSession.id, Area.id, Area.level, Area.province_id)
        .join(Area, Area.id == TrainingSession.area_id).where(Area.valid_to == OLD_MAP_TO,
                                                              TrainingSession.district_id.is_not(None)
                                                              | (Area.level == "province"))).all()
    changes: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for session_id, area_id, level, province_id in sessions:
        if level == "commune" and area_id in communes:
            commune = communes[area_id][0]
            changes[(new_province[commune], commune)].append(session_id)
        elif level != "commune" and len(province_successor.get(province_id, [])) == 1:
            target = province_successor[province_id][0]
            if result.province is None or target == result.province.id:
                changes[(target, None)].append(session_id)
    for (province_id, commune_id), ids in changes.items():
        for start in range(0, len(ids), 500):
            db.session.execute(update(TrainingSession).where(TrainingSession.id.in_(ids[start:start + 500])).values(
                province_id=province_id, district_id=None, commune_id=commune_id),
                execution_options={"synchronize_session": False})


def _audit_rows(actor, rows: list[tuple[str, str, int, int | None, dict]]) -> None:
    """One audit event per change, inserted in bulk (a province's reform is thousands of them):
    (action, object type, object id, province id, details)."""
    from cdt.audit.models import AuditEvent
    from cdt.core.clock import utcnow

    at = utcnow()
    values = [{"at": at, "user_id": getattr(actor, "id", None), "username": getattr(actor, "username", None),
               "action": action, "object_type": object_type, "object_id": object_id, "province_id": province_id,
               "details": details, "ip": None} for action, object_type, object_id, province_id, details in rows]
    for start in range(0, len(values), 5000):
        db.session.execute(insert(AuditEvent), values[start:start + 5000])


def insert_places(village_ids: list[int], new: AdminUnit):
    """INSERT of the placements from 2025-07-01 of these villages in `new`."""
    source = select(
        AdminUnit.id, literal(new.province_id), literal(None), literal(new.id), literal(NEW_MAP_FROM), literal(None)
    ).where(AdminUnit.id.in_(village_ids))
    return insert(VillagePlace).from_select(
        ["village_id", "province_id", "district_id", "commune_id", "valid_from", "valid_to"], source)
