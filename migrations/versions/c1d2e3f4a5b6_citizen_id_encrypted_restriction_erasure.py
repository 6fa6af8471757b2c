"""personal data (issue 13): citizen ID encrypted at rest, restriction and erasure marks

- person.citizen_id (plain text) becomes person.citizen_id_enc (Fernet, key CDT_CITIZEN_ID_KEY)
  and person.citizen_id_hash (HMAC-SHA256 with CDT_CITIZEN_ID_HASH_KEY, unique: the duplicate
  rule and search compare it); every existing value is converted, then the plain column is
  dropped (no plain value is left);
- person.restricted_at / restricted_by_id: restriction of processing (cdt/privacy/rules.py);
- person.erased_at: the person was anonymised (cdt/privacy/erasure.py).

The keys are read from the app's configuration (the environment; in development the instance
folder). Converting existing citizen IDs without them is refused with a clear message.

Revision ID: c1d2e3f4a5b6
Revises: aa511cdfeb6d
"""
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = 'c1d2e3f4a5b6'
down_revision = 'aa511cdfeb6d'
branch_labels = None
depends_on = None

CHUNK = 1000


def _keys():
    from cryptography.fernet import Fernet, MultiFernet
    from flask import current_app

    keys = [k.strip() for k in (current_app.config.get("CDT_CITIZEN_ID_KEY") or "").replace(";", ",").split(",")
            if k.strip()]
    hash_key = current_app.config.get("CDT_CITIZEN_ID_HASH_KEY") or ""
    if not keys or not hash_key:
        raise RuntimeError("CDT_CITIZEN_ID_KEY and CDT_CITIZEN_ID_HASH_KEY must be set to convert the citizen IDs "
                           "(see the README, 'Personal data: erasure, restriction, citizen ID')")
    return MultiFernet([Fernet(k) for k in keys]), hash_key.encode()


_person = sa.table("person", sa.column("id", sa.Integer), sa.column("citizen_id", sa.String),
                   sa.column("citizen_id_enc", sa.Text), sa.column("citizen_id_hash", sa.String))


def _without_sqlite_triggers():
    """SQLite rebuilds `person` in batch mode (a copy renamed into place), which its triggers (the
    team_stat counters) refuse: they are put aside and recreated, as they were, afterwards."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    saved = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
    for name, _sql in saved:
        bind.execute(sa.text(f'DROP TRIGGER IF EXISTS "{name}"'))
    return saved


def _restore_triggers(saved):
    bind = op.get_bind()
    for _name, sql in saved:
        bind.execute(sa.text(sql))


def upgrade():
    saved = _without_sqlite_triggers()
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('citizen_id_enc', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('citizen_id_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('restricted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('restricted_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_person_citizen_id_hash'), ['citizen_id_hash'])
        batch_op.create_foreign_key(batch_op.f('fk_person_restricted_by_id_user_account'), 'user_account',
                                    ['restricted_by_id'], ['id'])

    bind = op.get_bind()
    has_values = bind.execute(sa.select(_person.c.id).where(_person.c.citizen_id.is_not(None)).limit(1)).first()
    if has_values:
        fernet, hash_key = _keys()
        last = 0
        while True:
            rows = bind.execute(sa.select(_person.c.id, _person.c.citizen_id).where(
                _person.c.id > last, _person.c.citizen_id.is_not(None)).order_by(_person.c.id).limit(CHUNK)).all()
            if not rows:
                break
            for person_id, plain in rows:
                bind.execute(_person.update().where(_person.c.id == person_id).values(
                    citizen_id_enc=fernet.encrypt(plain.encode()).decode("ascii"),
                    citizen_id_hash=hmac.new(hash_key, plain.encode(), hashlib.sha256).hexdigest(),
                    citizen_id=None))
            last = rows[-1][0]

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_constraint('uq_person_citizen_id', type_='unique')
        batch_op.drop_column('citizen_id')
    _restore_triggers(saved)


def downgrade():
    saved = _without_sqlite_triggers()
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('citizen_id', sa.String(length=12), nullable=True))
        batch_op.create_unique_constraint('uq_person_citizen_id', ['citizen_id'])

    bind = op.get_bind()
    if bind.execute(sa.select(_person.c.id).where(_person.c.citizen_id_enc.is_not(None)).limit(1)).first():
        fernet, _hash_key = _keys()
        last = 0
        while True:
            rows = bind.execute(sa.select(_person.c.id, _person.c.citizen_id_enc).where(
                _person.c.id > last, _person.c.citizen_id_enc.is_not(None)).order_by(_person.c.id).limit(CHUNK)).all()
            if not rows:
                break
            for person_id, token in rows:
                bind.execute(_person.update().where(_person.c.id == person_id).values(
                    citizen_id=fernet.decrypt(token.encode("ascii")).decode()))
            last = rows[-1][0]

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_person_restricted_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_person_citizen_id_hash'), type_='unique')
        batch_op.drop_column('erased_at')
        batch_op.drop_column('restricted_by_id')
        batch_op.drop_column('restricted_at')
        batch_op.drop_column('citizen_id_hash')
        batch_op.drop_column('citizen_id_enc')
    _restore_triggers(saved)
