"""people sorted in the Vietnamese alphabet (issue 17): person.sort_name

A key whose plain order is the Vietnamese dictionary order of the name (D before Đ, tones after
the letters); filled for every existing person here, written with each person from now on.

Revision ID: 5e2d8c41a9b7
Revises: b13d0a7a5e01
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '5e2d8c41a9b7'
down_revision = 'b13d0a7a5e01'
branch_labels = None
depends_on = None

CHUNK = 5000
# A copy of cdt/core/text.py's vi_sort_key as it stands at this revision (a migration never imports
# code that may change after it).
_ALPHABET = "0123456789aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: f"{position + 2:02d}" for position, letter in enumerate(_ALPHABET)}
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
_LETTER_MARKS = {("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê", ("o", "\u0302"): "ô",
                 ("o", "\u031b"): "ơ", ("u", "\u031b"): "ư"}


def vi_sort_key(text):
    from unidecode import unidecode

    letters, tones = [], []
    for word in (text or "").lower().split():
        if letters:
            letters.append("01")
            tones.append("0")
        for char in word:
            decomposed = unicodedata.normalize("NFD", char)
            base, marks, tone = decomposed[0], decomposed[1:], "0"
            for mark in marks:
                if mark in _TONES:
                    tone = _TONES[mark]
                else:
                    base = _LETTER_MARKS.get((base, mark), base)
            rank = _RANK.get(base)
            if rank is None:
                rank = _RANK.get(unidecode(base).lower()[:1], "99")
            letters.append(rank)
            tones.append(tone)
    return ("".join(letters) + "00" + "".join(tones))[:400]


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_name', sa.String(length=400), server_default='', nullable=False))
    bind = op.get_bind()
    person = sa.table('person', sa.column('id', sa.Integer), sa.column('full_name', sa.String),
                      sa.column('sort_name', sa.String))
    update = person.update().where(person.c.id == sa.bindparam('b_id')).values(sort_name=sa.bindparam('b_key'))
    last = 0
    while True:
        rows = bind.execute(sa.select(person.c.id, person.c.full_name).where(person.c.id > last)
                            .order_by(person.c.id).limit(CHUNK)).all()
        if not rows:
            break
        bind.execute(update, [{'b_id': id_, 'b_key': vi_sort_key(name)} for id_, name in rows])
        last = rows[-1][0]
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_sort_name'), ['sort_name'], unique=False)


def downgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_sort_name'))
        batch_op.drop_column('sort_name')
