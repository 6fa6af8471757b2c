"""People are listed in the Vietnamese alphabet (issue 17, polish): D before Đ, Ă and Â after A,
tones after the letters, whatever the database's own collation."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from cdt.core.text import vi_sort_key
from cdt.extensions import db
from cdt.registry.models import Person
from tests.factories import create_user, gen_commune, gen_person

# The dictionary order (what a Vietnamese reader expects), shuffled below.
IN_ORDER = ["An", "Àn", "Án", "An Bình", "Anh", "Ăn", "Ân", "Ấn", "Bé", "Dung", "Dương", "Đào", "Đức",
            "Ê", "On", "Ôn", "Ơn", "Uyên", "Ưng"]


def test_sort_key_gives_the_vietnamese_dictionary_order():
    shuffled = IN_ORDER[::-1]
    assert sorted(shuffled, key=vi_sort_key) == IN_ORDER
    assert vi_sort_key("Đào") == vi_sort_key("đào")  # case does not matter
    assert vi_sort_key("An").isdigit() and vi_sort_key("") == "00"


@pytest.mark.bare
def test_member_list_follows_the_vietnamese_alphabet(app, login_as):
    names = ["Đỗ Thị Hoa", "Dương Văn Nam", "Ân Thị Lụa", "Ăn Văn Tư", "Bùi An", "An Văn Ba"]
    with app.app_context():
        commune = gen_commune()
        for n, name in enumerate(names):
            gen_person(commune, full_name=name, phone=f"0912{n:06d}")
        officer = create_user("commune_officer", commune)
        stored = db.session.scalars(select(Person.sort_name).where(Person.full_name == "Đỗ Thị Hoa")).one()
        assert stored == vi_sort_key("Đỗ Thị Hoa")
        username = officer.username
    html = login_as(username).get("/members").text
    shown = [name for name in re.findall(r">([^<>]+)</a>", html) if name in names]
    assert shown == ["An Văn Ba", "Ăn Văn Tư", "Ân Thị Lụa", "Bùi An", "Dương Văn Nam", "Đỗ Thị Hoa"]


@pytest.mark.bare
def test_renaming_a_person_moves_them_in_the_order(app):
    from cdt.registry import services
    from tests.factories import acting_as

    with app.app_context():
        person = gen_person(gen_commune(), full_name="Đinh Văn Xuân")
        with acting_as():
            services.update_person(person, {"full_name": "Ánh Văn Xuân", "gender": person.gender,
                                            "ethnicity": person.ethnicity, "birth_date": person.birth_date,
                                            "phone": person.phone, "citizen_id": None, "youth_union": False,
                                            "position": None}, person.version_id)
        db.session.commit()
        assert db.session.get(Person, person.id).sort_name == vi_sort_key("Ánh Văn Xuân")
