"""Units of both maps: code unique on a date, succession, dated village placement

- admin_unit.code is no longer unique alone: (code, valid_from) is (new communes reuse old codes);
- unit_succession: old unit -> new unit (whole / part / kept);
- village_place: where each village lies over time; each existing village gets one open row
  (its commune today), so every figure stays what it was;
- team / person / team_stat.district_id may be NULL (the 2025 map has no districts).

SQLite: admin_unit is copied (batch mode) with foreign keys off for that copy (dropping a table
others refer to would fail or cascade); the NOT NULLs are removed in place (the schema text only,
the documented way for that change: no copy of team or person, their triggers and indexes stay).

Revision ID: 8dfbb162c25b
Revises: 5e55a1d0c0de
Create Date: 2026-11-28 23:51:39.491496

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import text


# revision identifiers, used by Alembic.
revision = '8dfbb162c25b'
down_revision = '5e55a1d0c0de'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('unit_succession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('predecessor_id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.CheckConstraint("kind IN ('whole', 'part', 'kept')", name=op.f('ck_unit_succession_kind')),
    sa.ForeignKeyConstraint(['predecessor_id'], ['admin_unit.id'], name=op.f('fk_unit_succession_predecessor_id_admin_unit')),
    sa.ForeignKeyConstraint(['successor_id'], ['admin_unit.id'], name=op.f('fk_unit_succession_successor_id_admin_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_succession')),
    sa.UniqueConstraint('predecessor_id', 'successor_id', name=op.f('uq_unit_succession_predecessor_id_successor_id'))
    )
    with op.batch_alter_table('unit_succession', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_succession_successor_id'), ['successor_id'], unique=False)

    op.create_table('village_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['commune_id'], ['admin_unit.id'], name=op.f('fk_village_place_commune_id_admin_unit')),
    sa.ForeignKeyConstraint(['district_id'], ['admin_unit.id'], name=op.f('fk_village_place_district_id_admin_unit')),
    sa.ForeignKeyConstraint(['province_id'], ['admin_unit.id'], name=op.f('fk_village_place_province_id_admin_unit')),
    sa.ForeignKeyConstraint(['village_id'], ['admin_unit.id'], name=op.f('fk_village_place_village_id_admin_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_village_place'))
    )
    with op.batch_alter_table('village_place', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_village_place_commune_id'), ['commune_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_village_place_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_village_place_province_id'), ['province_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_village_place_valid_from'), ['valid_from'], unique=False)
        batch_op.create_index('ix_village_place_village_from', ['village_id', 'valid_from'], unique=False)

    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    if sqlite:
        # A no-op inside a transaction: then nothing refers to admin_unit yet (a new database, whose
        # earlier migrations wrote rows), and the copy needs no switch.
        bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_admin_unit_code'), type_='unique')
        batch_op.create_index(batch_op.f('ix_admin_unit_code'), ['code'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_admin_unit_code_valid_from'), ['code', 'valid_from'])

    if sqlite:
        version = bind.exec_driver_sql('PRAGMA schema_version').scalar()
        bind.exec_driver_sql('PRAGMA writable_schema=ON')
        for table in ('person', 'team', 'team_stat'):
            bind.execute(text("UPDATE sqlite_master SET sql = replace(sql, 'district_id INTEGER NOT NULL,', "
                              "'district_id INTEGER,') WHERE type = 'table' AND name = :name"), {'name': table})
        bind.exec_driver_sql(f'PRAGMA schema_version={version + 1}')
        bind.exec_driver_sql('PRAGMA writable_schema=OFF')
        problems = bind.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
        if problems:
            raise RuntimeError(f'foreign keys broken by the admin_unit copy: {problems[:5]}')
    else:
        for table in ('person', 'team', 'team_stat'):
            op.alter_column(table, 'district_id', existing_type=sa.INTEGER(), nullable=True)

    # Every existing village where it lies today, from no date to no date: figures unchanged.
    op.execute(text(
        "INSERT INTO village_place (village_id, province_id, district_id, commune_id, valid_from, valid_to) "
        "SELECT id, province_id, district_id, commune_id, valid_from, valid_to FROM admin_unit "
        "WHERE level = 'village' ORDER BY id"))


def downgrade():
    # Only a database without the 2025 map goes back (rows without a district, or codes used twice,
    # have no place in the old schema).
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
        version = bind.exec_driver_sql('PRAGMA schema_version').scalar()
        bind.exec_driver_sql('PRAGMA writable_schema=ON')
        for table in ('person', 'team', 'team_stat'):
            bind.execute(text("UPDATE sqlite_master SET sql = replace(sql, 'district_id INTEGER,', "
                              "'district_id INTEGER NOT NULL,') WHERE type = 'table' AND name = :name"),
                         {'name': table})
        bind.exec_driver_sql(f'PRAGMA schema_version={version + 1}')
        bind.exec_driver_sql('PRAGMA writable_schema=OFF')
    else:
        for table in ('team_stat', 'team', 'person'):
            op.alter_column(table, 'district_id', existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table('admin_unit', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_admin_unit_code_valid_from'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_admin_unit_code'))
        batch_op.create_unique_constraint(batch_op.f('uq_admin_unit_code'), ['code'])

    with op.batch_alter_table('village_place', schema=None) as batch_op:
        batch_op.drop_index('ix_village_place_village_from')
        batch_op.drop_index(batch_op.f('ix_village_place_valid_from'))
        batch_op.drop_index(batch_op.f('ix_village_place_province_id'))
        batch_op.drop_index(batch_op.f('ix_village_place_district_id'))
        batch_op.drop_index(batch_op.f('ix_village_place_commune_id'))

    op.drop_table('village_place')
    with op.batch_alter_table('unit_succession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_succession_successor_id'))

    op.drop_table('unit_succession')
