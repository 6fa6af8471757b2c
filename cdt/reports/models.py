"""team_stat: one row per team with what the coverage report counts today, kept by the database.

Each row is recomputed FROM SCRATCH (never incremented) by database triggers whenever a row it
depends on changes, in the same transaction as the change:

- team: inserted or updated (status, dates, village, area columns)  -> that team;
- membership: inserted, updated or deleted                          -> its team (old and new);
- person: youth_union or first_trained_on changed                   -> the teams of the person's
  current memberships (covers training's bulk UPDATE of first_trained_on).
- team deleted: the row goes with it (ON DELETE CASCADE).

Triggers, not ORM events, because several write paths bypass the ORM: training's UPDATE of
Person.first_trained_on, the demo's Core executemany inserts, the importer, raw SQL in a shell.
A trigger sees every one of them; a recount from scratch cannot drift.

The row is date-independent: "current" membership = left_on IS NULL, "counted" team = status
'active' and no dissolved_on, "trained" = first_trained_on IS NOT NULL. These equal the live
definitions (cdt/reports/queries.py) on the date `today` exactly when no relevant date lies after
today; `max_date` (the latest such date of the team, its memberships and its current members'
first training) lets the report check that with one index lookup and otherwise use the live query.

PostgreSQL: statement-level triggers with transition tables (one recount per statement, not per
row); the recount first locks the team_stat rows (and, for memberships, the people) so that
concurrent transactions serialise and the last one to commit recounts what the others committed
(READ COMMITTED gives each statement of the function a fresh snapshot). SQLite serialises writers.
A transaction of several statements would take those locks statement by statement (a move locks
its old team's row, then its new team's), so two of them in opposite directions could deadlock:
the services take them all first, in one fixed order, with `lock_for_change` (teams, then people,
then team_stat rows, each by id); a path that does not (bulk SQL) can still deadlock, and
cdt.core.transactions runs it again.

Bulk writes: a trigger that recounts per row grows with the square of a team's size when
thousands of members join it at once (20,000 import rows took minutes on SQLite). Many memberships
go through `cdt.reports.stats.insert_memberships`: one statement on PostgreSQL (one trigger run),
and on SQLite the triggers set aside inside the writing transaction with one recount of the teams
concerned before it commits (cdt/reports/stats.py).

The DDL is created by an `after_create` event on the metadata (create_all in tests, the bench and
the demo) and must be executed by the migration too: `trigger_ddl(dialect)` lists the statements.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, event, text
from sqlalchemy.orm import Mapped, mapped_column

from cdt.extensions import db


class TeamStat(db.Model):
    __tablename__ = "team_stat"
    __table_args__ = (
        # Covering: the nation's report reads this index alone, in province order.
        Index("ix_team_stat_province_counted", "province_id", "counted", "has_leader", "members", "youth", "trained"),
        Index("ix_team_stat_district_counted", "district_id", "counted"),
        Index("ix_team_stat_commune_counted", "commune_id", "counted"),
        Index("ix_team_stat_shared", "team_id", sqlite_where=text("shared > 0"), postgresql_where=text("shared > 0")),
    )

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), primary_key=True)
    province_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)
    commune_id: Mapped[int] = mapped_column(Integer)
    village_id: Mapped[int] = mapped_column(Integer, index=True)
    # status 'active' and no dissolved_on: active today when no team date lies in the future.
    counted: Mapped[bool] = mapped_column(Boolean)
    has_leader: Mapped[bool] = mapped_column(Boolean)  # a current membership with role leader
    members: Mapped[int] = mapped_column(Integer)  # current memberships (one per person and team)
    youth: Mapped[int] = mapped_column(Integer)  # ... of youth-union members
    trained: Mapped[int] = mapped_column(Integer)  # ... of people with a first_trained_on
    # Current members who have another current membership (in any team): where the report looks
    # for people it would otherwise count twice in a unit (rare; partial index below).
    shared: Mapped[int] = mapped_column(Integer)
    # Latest of: established_on, dissolved_on, each membership's left_on (or joined_on), current
    # members' first_trained_on. After today: the row does not describe today, use the live query.
    max_date: Mapped[date | None] = mapped_column(Date, index=True)


COLUMNS = ("team_id, province_id, district_id, commune_id, village_id, counted, has_leader, members, youth, "
           "trained, shared, max_date")


def _select(where: str, dialect: str) -> str:
    """SELECT of the team_stat rows of the teams matching `where` (over `team t`), recounted."""
    current = "FROM membership m WHERE m.team_id = t.id AND m.left_on IS NULL"
    with_person = "FROM membership m JOIN person p ON p.id = m.person_id WHERE m.team_id = t.id AND m.left_on IS NULL"
    last_membership = "(SELECT max(coalesce(m.left_on, m.joined_on)) FROM membership m WHERE m.team_id = t.id)"
    last_training = f"(SELECT max(p.first_trained_on) {with_person})"
    if dialect == "postgresql":
        max_date = f"greatest(t.established_on, t.dissolved_on, {last_membership}, {last_training})"
        youth = "p.youth_union"
    else:
        max_date = (f"nullif(max(coalesce(t.established_on, ''), coalesce(t.dissolved_on, ''), "
                    f"coalesce({last_membership}, ''), coalesce({last_training}, '')), '')")
        youth = "p.youth_union = 1"
    return (
        f"SELECT t.id, t.province_id, t.district_id, t.commune_id, t.village_id, "
        f"(t.status = 'active' AND t.dissolved_on IS NULL), "
        f"EXISTS (SELECT 1 {current} AND m.role = 'leader'), "
        f"(SELECT count(*) {current}), "
        f"(SELECT count(*) {with_person} AND {youth}), "
        f"(SELECT count(p.first_trained_on) {with_person}), "
        f"(SELECT count(*) {current} AND EXISTS (SELECT 1 FROM membership o WHERE o.person_id = m.person_id "
        f"AND o.left_on IS NULL AND o.team_id <> t.id)), "
        f"{max_date} "
        f"FROM team t WHERE {where}"
    )


def rebuild_sql(dialect: str) -> list[str]:
    """Statements that recompute every row (`flask cdt stats rebuild`, the migration)."""
    return ["DELETE FROM team_stat", f"INSERT INTO team_stat ({COLUMNS}) {_select('1 = 1', dialect)}"]


SQLITE_TRIGGERS = {
    # name: (event, statements' team condition(s) over `t`)
    "trg_team_stat_team_ins": ("AFTER INSERT ON team", ["t.id = NEW.id"]),
    "trg_team_stat_team_upd": (
        "AFTER UPDATE OF status, dissolved_on, established_on, village_id, province_id, district_id, commune_id "
        "ON team", ["t.id = NEW.id"]),
    # A membership changes its team's row and the `shared` count of the person's other teams.
    "trg_team_stat_membership_ins": ("AFTER INSERT ON membership", [
        "t.id = NEW.team_id OR t.id IN (SELECT team_id FROM membership WHERE person_id = NEW.person_id "
        "AND left_on IS NULL)"]),
    "trg_team_stat_membership_upd": ("AFTER UPDATE ON membership", [
        "t.id IN (OLD.team_id, NEW.team_id) OR t.id IN (SELECT team_id FROM membership "
        "WHERE person_id IN (OLD.person_id, NEW.person_id) AND left_on IS NULL)"]),
    "trg_team_stat_membership_del": ("AFTER DELETE ON membership", [
        "t.id = OLD.team_id OR t.id IN (SELECT team_id FROM membership WHERE person_id = OLD.person_id "
        "AND left_on IS NULL)"]),
    "trg_team_stat_person_upd": (
        "AFTER UPDATE OF youth_union, first_trained_on ON person FOR EACH ROW "
        "WHEN OLD.youth_union IS NOT NEW.youth_union OR OLD.first_trained_on IS NOT NEW.first_trained_on",
        ["t.id IN (SELECT team_id FROM membership WHERE person_id = NEW.id AND left_on IS NULL)"]),
}


def _sqlite_ddl() -> list[str]:
    statements = []
    for name, (when, conditions) in SQLITE_TRIGGERS.items():
        body = []
        for where in conditions:
            ids = where.replace("t.id", "team_id")
            body.append(f"DELETE FROM team_stat WHERE {ids};")
            body.append(f"INSERT INTO team_stat ({COLUMNS}) {_select(where, 'sqlite')};")
        statements.append(f"CREATE TRIGGER IF NOT EXISTS {name} {when} BEGIN {' '.join(body)} END")
    return statements


def _postgresql_ddl() -> list[str]:
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS.split(", ")[1:])
    refresh = f"""
CREATE OR REPLACE FUNCTION cdt_team_stat_refresh(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    -- Serialise concurrent recounts of a team; the INSERT below (a new statement) then sees
    -- what the transaction that held the lock committed.
    PERFORM 1 FROM team_stat WHERE team_id = ANY(ids) ORDER BY team_id FOR UPDATE;
    INSERT INTO team_stat ({COLUMNS}) {_select('t.id = ANY(ids)', 'postgresql')}
    ON CONFLICT (team_id) DO UPDATE SET {updates};
END $$"""
    team = """
CREATE OR REPLACE FUNCTION cdt_team_stat_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cdt_team_stat_refresh(ARRAY(SELECT DISTINCT id FROM new_rows));
    RETURN NULL;
END $$"""
    # Memberships: lock the people first (FOR NO KEY UPDATE: two changes of one person's memberships,
    # or of a person's marks, wait for each other), then recount the teams concerned and the other
    # current teams of those people (their `shared` count) in statements that see what the
    # other transaction committed.
    def membership_function(name: str, people: str, teams: str) -> str:
        return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM person WHERE id IN ({people}) ORDER BY id FOR NO KEY UPDATE;
    PERFORM cdt_team_stat_refresh(ARRAY(
        {teams}
        UNION SELECT team_id FROM membership WHERE left_on IS NULL AND person_id IN ({people})));
    RETURN NULL;
END $$"""

    membership_new = membership_function(
        "cdt_team_stat_membership_new", "SELECT person_id FROM new_rows", "SELECT team_id FROM new_rows")
    membership_upd = membership_function(
        "cdt_team_stat_membership_upd", "SELECT person_id FROM new_rows UNION SELECT person_id FROM old_rows",
        "SELECT team_id FROM new_rows UNION SELECT team_id FROM old_rows")
    membership_old = membership_function(
        "cdt_team_stat_membership_old", "SELECT person_id FROM old_rows", "SELECT team_id FROM old_rows")
    person = """
CREATE OR REPLACE FUNCTION cdt_team_stat_person() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cdt_team_stat_refresh(ARRAY(
        SELECT DISTINCT m.team_id FROM membership m
        WHERE m.left_on IS NULL AND m.person_id IN (
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE n.youth_union IS DISTINCT FROM o.youth_union
               OR n.first_trained_on IS DISTINCT FROM o.first_trained_on)));
    RETURN NULL;
END $$"""
    triggers = [
        ("trg_team_stat_team_ins", "AFTER INSERT ON team REFERENCING NEW TABLE AS new_rows", "cdt_team_stat_team"),
        ("trg_team_stat_team_upd", "AFTER UPDATE ON team REFERENCING NEW TABLE AS new_rows", "cdt_team_stat_team"),
        ("trg_team_stat_membership_ins", "AFTER INSERT ON membership REFERENCING NEW TABLE AS new_rows",
         "cdt_team_stat_membership_new"),
        ("trg_team_stat_membership_upd",
         "AFTER UPDATE ON membership REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
         "cdt_team_stat_membership_upd"),
        ("trg_team_stat_membership_del", "AFTER DELETE ON membership REFERENCING OLD TABLE AS old_rows",
         "cdt_team_stat_membership_old"),
        ("trg_team_stat_person_upd", "AFTER UPDATE ON person REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
         "cdt_team_stat_person"),
    ]
    statements = [refresh, team, membership_new, membership_upd, membership_old, person]
    for name, when, function in triggers:
        statements.append(f"CREATE OR REPLACE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    return [s.strip() for s in statements]


TRIGGER_NAMES = tuple(SQLITE_TRIGGERS)


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that install the triggers (idempotent) for 'sqlite' or 'postgresql'."""
    return _postgresql_ddl() if dialect == "postgresql" else _sqlite_ddl()


def fill_missing_sql(dialect: str) -> str:
    """Rows for teams that have none (a team_stat created beside existing teams)."""
    missing = "NOT EXISTS (SELECT 1 FROM team_stat s WHERE s.team_id = t.id)"
    return f"INSERT INTO team_stat ({COLUMNS}) {_select(missing, dialect)}"


def drop_trigger_ddl(dialect: str) -> list[str]:
    """The statements that remove the triggers (a migration's downgrade)."""
    tables = {name: when.split(" ON ")[1].split()[0] for name, (when, _c) in SQLITE_TRIGGERS.items()}
    if dialect != "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES]
    functions = ["cdt_team_stat_team", "cdt_team_stat_membership_new", "cdt_team_stat_membership_upd",
                 "cdt_team_stat_membership_old", "cdt_team_stat_person"]
    return ([f"DROP TRIGGER IF EXISTS {name} ON {tables[name]}" for name in TRIGGER_NAMES]
            + [f"DROP FUNCTION IF EXISTS {f}()" for f in functions]
            + ["DROP FUNCTION IF EXISTS cdt_team_stat_refresh(integer[])"])


@event.listens_for(db.metadata, "after_create")
def _install_triggers(target, connection, **kw) -> None:
    """create_all: the triggers, and the rows of teams already there (none in a new database)."""
    if "team_stat" not in target.tables:
        return
    for statement in trigger_ddl(connection.dialect.name):
        connection.execute(text(statement))
    connection.execute(text(fill_missing_sql(connection.dialect.name)))


def triggers_installed(connection) -> bool:
    """All the triggers exist (else team_stat may be stale: the report uses the live query)."""
    if connection.dialect.name == "postgresql":
        sql = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'trg_team_stat_%' AND NOT tgisinternal"
    else:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'trg_team_stat_%'"
    return connection.execute(text(sql)).scalar() == len(TRIGGER_NAMES)


def lock_for_change(teams: Iterable[int] = (), people: Iterable[int] = (), *, members: bool = False) -> None:
    """Take the row locks a change of these teams and people needs, in the one order every writer
    uses, before the change reads what it checks. PostgreSQL:

    1. the teams' rows (FOR NO KEY UPDATE): changes of one team (its leader, its status, who joins
       it) queue up;
    2. the people's rows (FOR NO KEY UPDATE), with `members` also the teams' current members: the
       rows the membership triggers lock;
    3. the team_stat rows of the teams and of those people's current teams (FOR UPDATE): the rows
       the triggers recount.

    Each step is one statement locking in id order, so two transactions never wait for each other
    in a circle; the triggers then find their locks already held. SQLite has one writer at a time:
    the transaction becomes the writer now (BEGIN IMMEDIATE) rather than at its first write, so
    that its checks, too, read what the previous writer committed.

    Call it before changing anything. Afterwards the session's objects are expired: what the
    caller reads next is what the transactions it waited for committed."""
    session = db.session
    session.flush()
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        if not connection.connection.dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        session.expire_all()
        return
    if connection.dialect.name != "postgresql":
        return
    team_ids = sorted(set(teams))
    person_ids = set(people)
    if team_ids:
        session.execute(text("SELECT 1 FROM team WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
                        {"ids": team_ids})
        if members:
            person_ids.update(session.scalars(text(
                "SELECT person_id FROM membership WHERE team_id = ANY(:ids) AND left_on IS NULL"), {"ids": team_ids}))
    stat_ids = set(team_ids)
    if person_ids:
        session.execute(text("SELECT 1 FROM person WHERE id = ANY(:ids) ORDER BY id FOR NO KEY UPDATE"),
                        {"ids": sorted(person_ids)})
        stat_ids.update(session.scalars(text(
            "SELECT team_id FROM membership WHERE person_id = ANY(:ids) AND left_on IS NULL"),
            {"ids": sorted(person_ids)}))
    if stat_ids:
        session.execute(text("SELECT 1 FROM team_stat WHERE team_id = ANY(:ids) ORDER BY team_id FOR UPDATE"),
                        {"ids": sorted(stat_ids)})
    session.expire_all()
