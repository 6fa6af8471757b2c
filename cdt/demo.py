"""`flask cdt demo`: a synthetic, deterministic data set, on both maps.

The default is today's Tỉnh Lào Cai (15), made on 1 July 2025 of old Lào Cai (10) and old Yên
Bái (15). Old Lào Cai matches the province's published 2023 figures exactly: 1,562 villages
over its 151 communes, one active team in each, 7,363 people in those teams (one leader and
one deputy per team), about two thirds youth-union members, and training sessions held in the
first half of 2023. Old Yên Bái's 168 communes get made-up figures of the same kind (about 8
villages per commune, 5 people per team: no published figure is used). Then the reform is
applied (cdt/geo/reform.py): every village, team and person is placed in new Lào Cai's 99
communes from 2025-07-01, and the demo accounts follow. `--scale national` builds the same
kind of data for all 63 old provinces and applies the reform to all of them. Every person is
invented: names are drawn from syllable lists, phone numbers and citizen IDs are random.
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, text

from cdt.core.text import fold, vi_sort_key
from cdt.extensions import db
from cdt.geo.models import AdminUnit
from cdt.geo.units import load_units
from cdt.privacy.crypto import columns_for
from cdt.registry.names import rebuild_name_keys
from cdt.training.topics import ensure_topics

SEED = 2023
LAO_CAI = "10"  # old Lào Cai, until 2025-06-30
YEN_BAI = "15"  # old Yên Bái, until 2025-06-30 (from 2025-07-01, 15 is new Lào Cai)
LAO_CAI_VILLAGES = 1562
LAO_CAI_PEOPLE = 7363
DEMO_PASSWORD = "cdt-demo-2023"
OLD_MAP_DAY = date(2023, 6, 30)
# username, role, area code, full name. Codes of the map before the reform (read on OLD_MAP_DAY),
# as the accounts were made then: the demo's reform re-points `province` to new Lào Cai (15) and
# `commune` to new Xã Bắc Hà (02839, which old Xã Bản Phố joined); `district` and `youth` keep old
# Huyện Bắc Hà (085), abolished: the accounts an admin reassigns. NEW_MAP_ACCOUNTS are made on the
# new map: `commune2` works on new Phường Yên Bái (04252), made of five old Yên Bái wards.
DEMO_ACCOUNTS = [
    ("admin", "admin", None, "Quản trị hệ thống"),
    ("province", "province_staff", "10", "Cán bộ Sở (demo)"),
    ("district", "district_staff", "085", "Cán bộ Phòng VH-TT Bắc Hà (demo)"),
    ("commune", "commune_officer", "02866", "Cán bộ xã Bắc Hà (demo)"),
    ("youth", "youth_coordinator", "085", "Cán bộ Đoàn huyện Bắc Hà (demo)"),
    ("commune2", "commune_officer", "04252", "Cán bộ phường Yên Bái (demo)"),
]
NEW_MAP_ACCOUNTS = {"commune2"}

# Names by ethnic group: (surnames, male middle names, female middle names, male given, female given)
NAMES = {
    "kinh": (
        "Nguyễn Trần Lê Phạm Hoàng Vũ Đỗ Bùi Đặng Ngô Dương Đinh Lương Phan".split(),
        ["Văn", "Đức", "Minh", "Quang", "Xuân", "Hữu"],
        ["Thị", "Thu", "Ngọc", "Thanh", "Minh"],
        "An Bình Cường Dũng Hải Hùng Khánh Long Nam Phong Quân Sơn Thắng Tuấn Việt".split(),
        "Anh Dung Hà Hằng Hương Lan Linh Mai Nga Phương Thảo Trang Vân Yến Hoa".split(),
    ),
    "hmong": (
        "Giàng Sùng Vàng Lý Thào Hầu Mùa Lù Ma Chẻo Hạng Cứ".split(),
        ["A", "Seo", "Mí", "Văn"],
        ["Thị", "Thị"],
        "Páo Chứ Dình Sử Lử Dở Súa Pàng Chá Vừ Tráng Sính Dế Xá Chư Giống".split(),
        "Mỷ Máy Sua Dợ Mai Chở Pà Say Ly Dua Của Mẩy".split(),
    ),
    "tay": (
        "Hoàng Nông Lương Ma Hà Triệu Lục Vi Hứa La".split(),
        ["Văn", "Đức", "Quốc"],
        ["Thị", "Thu"],
        "Thắng Hưng Khánh Thuận Tâm Toàn Thành Chiến Lợi Hiệp".split(),
        "Nhung Hiền Thu Luyến Nga Duyên Hạnh Thơm Lụa Hoài".split(),
    ),
    "dao": (
        "Triệu Bàn Lý Tẩn Phàn Chảo Đặng Sì".split(),
        ["Văn", "Láo", "Kiến", "Tả"],
        ["Thị", "Mùi"],
        "Quẩy Chòi Sành Phẩu Lở Ton Mềnh Chiêu Quyên Kiều".split(),
        "Mẩy Xuân Chài Mây Nái Phù Lìu Dính".split(),
    ),
    "giay": (
        "Lò Vàng Hoàng Lù Sần Lồ".split(),
        ["Văn", "A", "Seo"],
        ["Thị"],
        "Chín Sinh Pháy Lìn Quang Khoa Tơ Thanh".split(),
        "Hoa Mến Sính Phin Dung Sáng".split(),
    ),
    "nung": (
        "Nông Hoàng Vàng Lù Sầm Lồ".split(),
        ["Văn", "A", "Seo"],
        ["Thị"],
        "Sáu Páo Tuyên Dín Lìn Sèn Phìn".split(),
        "Mai Chiều Cù Phứ Liên Sình".split(),
    ),
}
# Lào Cai's ethnic mix, roughly (weights).
ETHNIC_WEIGHTS = [("kinh", 33), ("hmong", 25), ("tay", 15), ("dao", 14), ("giay", 5), ("nung", 4)]

VILLAGE_SYLLABLES = (
    "Nậm Na Lùng Sín Pả Tả Cốc Bản Làng Phìn Chải Hồ Sả Mào Khánh Chéng Hối Mế Cài Thàng "
    "Pho Ngài Vai Dền Sán Trung Thượng Hạ Tát Xà Phố Khẳm Đông Nàn Ly Sảng Phúng Lử Sừ Giàng "
    "Tiến Tân Hòa Vinh Lâm Thịnh Mai Xuân".split()
)

POSITIONS = ["village_head", "party_cell_secretary", "youth_union_secretary", "commune_police", "teacher"]


def _allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """Split `total` over len(weights) slots proportionally, each at least `minimum`, exactly."""
    n = len(weights)
    spare = total - minimum * n
    wsum = sum(weights)
    raw = [spare * w / wsum for w in weights]
    counts = [int(r) for r in raw]
    rest = spare - sum(counts)
    order = sorted(range(n), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in order[:rest]:
        counts[i] += 1
    return [c + minimum for c in counts]


class Builder:
    """Generates rows with explicit ids and inserts them in bulk (Core executemany)."""

    CHUNK = 5000

    def __init__(self, rng: random.Random):
        self.rng = rng
        conn = db.session.connection()
        self.next_id = {}
        for table in ("admin_unit", "village_place", "team", "person", "membership", "training_session", "invitation",
                      "attendance"):
            self.next_id[table] = (conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar() or 0) + 1
        self.buffers: dict[str, list[dict]] = {t: [] for t in self.next_id}
        self.citizen_ids: set[str] = set()
        # Phones and (name, birth date) are unique in the whole demo (the duplicate rules hold per
        # province, and provinces merged in 2025).
        self.phones: set[str] = set()
        self.name_births: set[tuple[str, date]] = set()
        self.counts = {t: 0 for t in self.next_id}

    def add(self, table: str, row: dict) -> int:
        row_id = self.next_id[table]
        self.next_id[table] += 1
        row["id"] = row_id
        self.buffers[table].append(row)
        self.counts[table] += 1
        if len(self.buffers[table]) >= self.CHUNK:
            self.flush(table)
        return row_id

    def flush(self, table: str | None = None) -> None:
        order = ["admin_unit", "village_place", "team", "person", "membership", "training_session", "invitation", "attendance"]
        tables = [table] if table else order
        if table:
            # Rows of a table may point at rows still buffered in the tables before it.
            tables = order[: order.index(table) + 1]
        for name in tables:
            rows = self.buffers[name]
            if rows:
                db.session.execute(insert(db.metadata.tables[name]), rows)
                self.buffers[name] = []

    # -- generators ---------------------------------------------------------------

    def person_name(self, ethnicity: str, gender: str) -> str:
        surnames, male_mid, female_mid, male_given, female_given = NAMES[ethnicity]
        r = self.rng
        middle = r.choice(male_mid if gender == "male" else female_mid)
        given = r.choice(male_given if gender == "male" else female_given)
        return f"{r.choice(surnames)} {middle} {given}"

    def phone(self, province_id: int) -> str:
        while True:
            prefix = self.rng.choice(["912", "913", "915", "916", "918", "983", "984", "986", "972", "975", "978", "868", "888"])
            value = "+84" + prefix + f"{self.rng.randrange(1_000_000):06d}"
            # Unique in the whole demo, not only the province: provinces merged in 2025.
            if value not in self.phones:
                self.phones.add(value)
                return value

    def unique_birth(self, province_id: int, search_name: str, birth: date) -> date:
        while (search_name, birth) in self.name_births:  # in the whole demo (provinces merged in 2025)
            birth += timedelta(days=1)
        self.name_births.add((search_name, birth))
        return birth

    def citizen_id(self, birth: date, gender: str, province_code: str) -> str:
        century = (0 if birth.year < 2000 else 2) + (1 if gender == "female" else 0)
        while True:
            value = f"0{province_code}{century}{birth.year % 100:02d}{self.rng.randrange(1_000_000):06d}"
            if value not in self.citizen_ids:
                self.citizen_ids.add(value)
                return value

    def village_names(self, count: int) -> list[str]:
        names: list[str] = []
        seen = set()
        while len(names) < count:
            name = " ".join(self.rng.sample(VILLAGE_SYLLABLES, 2))
            if name not in seen:
                seen.add(name)
                names.append(name)
        return names


def _ethnicity(rng: random.Random) -> str:
    return rng.choices([e for e, _ in ETHNIC_WEIGHTS], [w for _, w in ETHNIC_WEIGHTS])[0]


def build_province(b: Builder, province: AdminUnit, communes: list[tuple], villages_total: int | None,
                   people_total: int | None, topics: dict[str, int], progress=None) -> None:
    """communes: (id, code, name, kind, district_id) rows of the province, in code order."""
    rng = b.rng
    ncommunes = len(communes)
    if villages_total is None:
        villages_total = sum(rng.randint(5, 11) for _ in range(ncommunes))
    weights = [rng.uniform(0.5, 1.6) for _ in communes]
    per_commune = _allocate(villages_total, weights, 3)
    teams_total = villages_total
    if people_total is None:
        people_total = sum(rng.randint(4, 6) for _ in range(teams_total))
    team_sizes = _allocate(people_total, [rng.uniform(0.6, 1.4) for _ in range(teams_total)], 3)

    team_index = 0
    leaders_by_commune: dict[int, list[tuple[int, int]]] = {}
    members_by_commune: dict[int, list[tuple[int, int]]] = {}
    province_code = province.code
    for (commune_id, commune_code, _name, commune_kind, district_id), nvillages in zip(communes, per_commune, strict=True):
        urban = commune_kind in ("ward", "township")
        names = b.village_names(nvillages)
        for number in range(1, nvillages + 1):
            if urban:
                vname, vkind = f"Tổ dân phố số {number}", "residential_group"
            else:
                vkind = "hamlet" if rng.random() < 0.45 else "village"
                vname = ("Bản " if vkind == "hamlet" else "Thôn ") + names[number - 1]
            village_id = b.add("admin_unit", {
                "code": f"{commune_code}-{number:03d}", "name": vname, "level": "village", "kind": vkind,
                "parent_id": commune_id, "province_id": province.id, "district_id": district_id,
                "commune_id": commune_id, "valid_from": None, "valid_to": None,
            })
            b.add("village_place", {"village_id": village_id, "province_id": province.id, "district_id": district_id,
                                    "commune_id": commune_id, "valid_from": None, "valid_to": None})
            established = date(2022, 3, 1) + timedelta(days=rng.randrange(280))
            team_id = b.add("team", {
                "village_id": village_id, "name": f"Tổ CNS cộng đồng {vname}", "established_on": established,
                "decision_number": f"{rng.randint(10, 450)}/QĐ-UBND", "status": "active", "dissolved_on": None,
                "notes": None, "province_id": province.id, "district_id": district_id, "commune_id": commune_id,
                "created_at": datetime(2022, 12, 31), "updated_at": datetime(2022, 12, 31), "version_id": 1,
            })
            size = team_sizes[team_index]
            team_index += 1
            for position in range(size):
                role = "leader" if position == 0 else "deputy" if position == 1 else "member"
                gender = "male" if rng.random() < 0.55 else "female"
                ethnicity = "kinh" if urban and rng.random() < 0.6 else _ethnicity(rng)
                age = rng.randint(18, 30) if rng.random() < 0.6 else rng.randint(31, 58)
                birth = date(2023 - age, rng.randint(1, 12), rng.randint(1, 28))
                full_name = b.person_name(ethnicity, gender)
                birth = b.unique_birth(province.id, fold(full_name), birth)
                youth = age <= 30 and rng.random() < 0.95 or age > 30 and rng.random() < 0.22
                if role == "leader":
                    pos = rng.choice(POSITIONS[:3])
                elif rng.random() < 0.2:
                    pos = rng.choice(POSITIONS)
                else:
                    pos = None
                person_id = b.add("person", {
                    "full_name": full_name, "search_name": fold(full_name), "sort_name": vi_sort_key(full_name), "birth_date": birth, "gender": gender,
                    "ethnicity": ethnicity, "phone": b.phone(province.id) if rng.random() < 0.9 else None,
                    **columns_for(b.citizen_id(birth, gender, province_code) if rng.random() < 0.6 else None),
                    "youth_union": youth, "position": pos, "first_trained_on": None,
                    "province_id": province.id, "district_id": district_id, "commune_id": commune_id,
                    "created_at": datetime(2022, 12, 31), "updated_at": datetime(2022, 12, 31), "version_id": 1,
                })
                joined = established + timedelta(days=rng.randrange(30)) if role == "member" else established
                b.add("membership", {
                    "person_id": person_id, "team_id": team_id, "role": role, "joined_on": joined,
                    "left_on": None, "created_at": datetime(2022, 12, 31),
                })
                bucket = leaders_by_commune if role != "member" else members_by_commune
                bucket.setdefault(commune_id, []).append((person_id, team_id))
        if progress is not None:
            progress.update(1)

    # Training, first half of 2023: per district, one session per topic for a group of its
    # communes; leaders and deputies (and a few members) invited, most of them attend.
    by_district: dict[int, list[int]] = {}
    for commune_id, _code, _name, _kind, district_id in communes:
        by_district.setdefault(district_id, []).append(commune_id)
    topic_codes = ["online_public_services", "vneid", "cashless_payment", "ecommerce", "information_security"]
    trained_on: dict[int, date] = {}
    for district_id, commune_ids in by_district.items():
        rng.shuffle(commune_ids)
        groups = [commune_ids[i::3] for i in range(3)]
        for group_number, group in enumerate(groups):
            if not group:
                continue
            topic = topic_codes[(group_number + district_id) % len(topic_codes)]
            day = date(2023, 1, 9) + timedelta(days=rng.randrange(165))
            start = datetime(day.year, day.month, day.day, 8, 0)
            held = group_number < 2
            session_id = b.add("training_session", {
                "title": _session_title(topic), "topic_id": topics[topic], "mode": "in_person",
                "starts_at": start, "ends_at": start + timedelta(hours=4), "hours": Decimal("4.0"),
                "venue": "Hội trường UBND huyện", "trainer": "Đoàn Thanh niên tỉnh Lào Cai" if province_code == LAO_CAI else "Tỉnh đoàn",
                "capacity": 200, "area_id": district_id, "province_id": province.id, "district_id": district_id,
                "commune_id": None, "status": "held" if held else "cancelled", "notes": None, "created_by_id": None,
                "created_at": datetime(2023, 1, 2), "updated_at": datetime(2023, 1, 2), "version_id": 1,
            })
            for commune_id in group:
                invited = leaders_by_commune.get(commune_id, []) + rng.sample(
                    members_by_commune.get(commune_id, []), min(2, len(members_by_commune.get(commune_id, [])))
                )
                for person_id, team_id in invited:
                    b.add("invitation", {"session_id": session_id, "person_id": person_id, "team_id": team_id,
                                         "created_at": datetime(2023, 1, 2)})
                    if held and rng.random() < 0.85:
                        b.add("attendance", {"session_id": session_id, "person_id": person_id,
                                             "hours": Decimal("4.0"), "walk_in": False, "recorded_by_id": None,
                                             "recorded_at": start + timedelta(hours=4)})
                        if person_id not in trained_on or trained_on[person_id] > day:
                            trained_on[person_id] = day
    b.flush()
    person_table = db.metadata.tables["person"]
    from sqlalchemy import bindparam, update

    if trained_on:
        db.session.execute(
            update(person_table).where(person_table.c.id == bindparam("pid")).values(first_trained_on=bindparam("day")),
            [{"pid": pid, "day": day} for pid, day in trained_on.items()],
            execution_options={"synchronize_session": False},
        )


def _session_title(topic: str) -> str:
    from cdt.training.topics import SEED_TOPICS

    name = next(vi for code, vi, _en in SEED_TOPICS if code == topic)
    return f"Tập huấn: {name}"


def database_is_empty() -> bool:
    from cdt.auth.models import User
    from cdt.registry.models import Person, Team

    for model in (Team, Person, User):
        if db.session.scalar(select(func.count()).select_from(model)):
            return False
    return True


def non_demo_data() -> list[str]:
    """What the database holds that the demo did not make (empty: demo data only, which
    `--reset` may delete): accounts other than the demo accounts, registry data without any
    demo account beside it, and changes recorded in the audit trail by the command line
    (imports). Changes made through the demo accounts are demo data: anybody can log in
    with them."""
    from cdt.audit.models import AuditEvent
    from cdt.auth.models import User
    from cdt.registry.models import Person, Team
    from cdt.training.models import TrainingSession

    demo_names = [username for username, *_ in DEMO_ACCOUNTS]
    is_demo_account = User.is_demo.is_(True) & User.username.in_(demo_names)
    found = []
    accounts = db.session.scalar(select(func.count()).select_from(User).where(~is_demo_account))
    if accounts:
        found.append(f"{accounts} account(s) that are not demo accounts")
    demo_accounts = db.session.scalar(select(func.count()).select_from(User).where(is_demo_account))
    if not demo_accounts:
        for model, what in ((Team, "teams"), (Person, "people"), (TrainingSession, "training sessions")):
            if db.session.scalar(select(func.count()).select_from(model)):
                found.append(f"{what} but no demo account")
                break
    outside = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.user_id.is_(None), AuditEvent.action != "login.failure"))
    if outside:
        found.append(f"{outside} change(s) made from the command line in the audit trail")
    return found


def reset_database() -> None:
    """Delete every row (not the schema), children first."""
    engine = db.session.get_bind()
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def create_demo_accounts() -> None:
    from cdt.auth.models import User
    from cdt.geo.queries import unit_by_code

    for username, role, area_code, full_name in DEMO_ACCOUNTS:
        day = None if username in NEW_MAP_ACCOUNTS else OLD_MAP_DAY
        area = unit_by_code(area_code, day) if area_code else None
        user = User(username=username, role=role, area_id=area.id if area else None,
                    full_name=full_name, is_demo=True, must_change_password=False)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)


def _fix_sequences() -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("admin_unit", "village_place", "team", "person", "membership", "training_session", "invitation",
                  "attendance"):
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))


def apply_reform() -> int:
    """The 2025 reform on the demo data, done by the demo's admin (cdt/geo/reform.py); returns
    the number of villages placed on the new map."""
    from cdt.auth.models import User
    from cdt.geo import reform

    admin = db.session.scalar(select(User).where(User.username == "admin"))
    plan = reform.plan()
    reform.apply(plan, actor=admin)
    return len(plan.placements)


def build_demo(scale: str = "laocai", progress: bool = False) -> dict[str, int]:
    rng = random.Random(SEED)
    codes = None if scale == "national" else [LAO_CAI, YEN_BAI]
    load_units(codes, progress=progress)
    topics = ensure_topics()
    from cdt.reports import stats

    stats.suspend()  # team_stat: one recount at the end (stats.rebuild) instead of a trigger per row
    b = Builder(rng)
    provinces = db.session.scalars(
        select(AdminUnit).where(AdminUnit.level == "province", AdminUnit.valid_from.is_(None),  # the old map
                                *([AdminUnit.code.in_(codes)] if codes else []))
        .order_by(AdminUnit.code)
    ).all()
    communes = db.session.execute(
        select(AdminUnit.province_id, AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.kind, AdminUnit.district_id)
        .where(AdminUnit.level == "commune", AdminUnit.province_id.in_([p.id for p in provinces]))
        .order_by(AdminUnit.code)
    ).all()
    by_province: dict[int, list[tuple]] = {}
    for province_id, *rest in communes:
        by_province.setdefault(province_id, []).append(tuple(rest))
    bar = click.progressbar(length=len(communes), label="communes") if progress else None
    if bar is not None:
        bar.__enter__()
    try:
        for province in provinces:
            exact = province.code == LAO_CAI
            build_province(b, province, by_province[province.id],
                           LAO_CAI_VILLAGES if exact else None, LAO_CAI_PEOPLE if exact else None, topics, bar)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    b.flush()
    rebuild_name_keys()  # the rows above bypass the ORM events that keep name search keys
    _fix_sequences()
    create_demo_accounts()
    apply_reform()  # before the recount: team_stat counts the teams where they are today
    from cdt.outputs.demo import build_outputs

    # The teams' monthly reports, targets, an allowance rate: new Lào Cai (15) today, which holds
    # old Lào Cai's and old Yên Bái's teams.
    reports = build_outputs(YEN_BAI)
    stats.rebuild()  # the triggers back, every team's report row recounted
    db.session.commit()
    return {
        "villages": b.counts["admin_unit"], "teams": b.counts["team"], "people": b.counts["person"],
        "sessions": b.counts["training_session"], "attendance": b.counts["attendance"], "reports": reports,
    }


@click.command("demo")
@click.option("--scale", type=click.Choice(["laocai", "national"]), default="laocai", show_default=True,
              help="Lào Cai only, or all 63 provinces.")
@click.option("--reset", is_flag=True, help="Delete all existing data first (refused when it is not all demo data).")
@click.option("--yes-delete-everything", "delete_everything", is_flag=True,
              help="With --reset: delete the data even when some of it is not demo data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database holds data.")
@with_appcontext
def demo_command(scale: str, reset: bool, delete_everything: bool, if_empty: bool) -> None:
    """Load the synthetic demo data set and the demo accounts."""
    if current_app.config.get("CDT_ENV") == "production":
        raise click.ClickException(
            "refused: CDT_ENV=production; the demo (and its accounts with a published password) "
            "is never loaded into, and never deletes, a production database")
    if not database_is_empty():
        if if_empty:
            click.echo("The database already holds data; demo not loaded.")
            return
        if not reset:
            raise click.ClickException("the database is not empty; use --reset to replace its data")
        found = non_demo_data()
        if found and not delete_everything:
            raise click.ClickException(
                f"refused: the database holds data that is not the demo's ({'; '.join(found)}), which --reset "
                "would delete; add --yes-delete-everything to delete everything anyway")
        reset_database()
    started = time.perf_counter()
    counts = build_demo(scale, progress=True)
    seconds = time.perf_counter() - started
    click.echo(
        f"Loaded {counts['villages']:,} villages, {counts['teams']:,} teams, {counts['people']:,} people, "
        f"{counts['sessions']:,} training sessions, {counts['attendance']:,} attendance rows in {seconds:.1f} s."
    )
    click.echo(f"Demo accounts: {', '.join(u for u, *_ in DEMO_ACCOUNTS)} (password {DEMO_PASSWORD}).")
