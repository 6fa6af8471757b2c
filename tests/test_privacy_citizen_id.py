"""Issue 13: the citizen ID at rest (cdt/privacy/crypto.py): encrypted, found and duplicate-checked
through a keyed hash, masked for who may not read it, its keys from the environment (generated
in development, required in production), rotated by `flask cdt privacy rotate-key`, and the
migration that converts plain values."""
from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, select, text

from cdt import config as config_module
from cdt import create_app
from cdt.extensions import db
from cdt.ops.production import ProductionConfigError
from cdt.privacy import crypto
from cdt.registry import services as registry
from cdt.registry.models import Person
from tests.conftest import BASE_CONFIG
from tests.factories import TEST_PASSWORD, create_unit_tree, create_user, gen_citizen_id, gen_person, gen_team

pytestmark = pytest.mark.bare


def _raw_people() -> list[tuple]:
    """Every stored value of the person table, as text."""
    return [tuple(str(v) for v in row) for row in db.session.execute(text("SELECT * FROM person"))]


def test_the_citizen_id_is_stored_encrypted_found_by_its_hash_and_refused_twice(app):
    with app.app_context():
        tree = create_unit_tree(communes=1, villages=1)
        commune = tree.communes[0]
        cid = gen_citizen_id()
        person = gen_person(commune, citizen_id=" ".join([cid[:3], cid[3:6], cid[6:]]))
        assert "citizen_id" not in {c["name"] for c in inspect(db.engine).get_columns("person")}
        assert not any(cid in value for row in _raw_people() for value in row)
        stored = db.session.execute(text("SELECT citizen_id_enc, citizen_id_hash FROM person WHERE id = :id"),
                                    {"id": person.id}).one()
        assert Fernet(BASE_CONFIG["CDT_CITIZEN_ID_KEY"]).decrypt(stored[0].encode()).decode() == cid
        assert stored[1] == crypto.blind_index(cid) and len(stored[1]) == 64
        db.session.expire_all()
        assert db.session.get(Person, person.id).citizen_id == cid
        # Search by the ID (any typing) through the hash; the duplicate rule through the same hash.
        assert db.session.scalar(select(Person.id).where(Person.citizen_id == cid)) == person.id
        assert db.session.scalars(select(Person.id).where(Person.citizen_id.in_([cid, gen_citizen_id()]))).all() \
            == [person.id]
        with app.test_request_context("/"), pytest.raises(registry.DuplicateError):
            gen_person(commune, citizen_id=cid)
        assert db.session.scalar(select(db.func.count()).select_from(Person)) == 1
        assert person.citizen_id_masked == "••••••••" + cid[-4:]


def test_the_citizen_id_is_masked_for_who_may_not_read_it(app, client):
    with app.app_context():
        tree = create_unit_tree(communes=1, villages=1)
        team = gen_team(tree.villages_of(tree.communes[0])[0])
        cid = gen_citizen_id()
        pid = gen_person(team=team, citizen_id=cid).id
        officer = create_user("commune_officer", tree.communes[0]).username
        youth = create_user("youth_coordinator", tree.district).username
    from tests.conftest import login

    login(client, officer, TEST_PASSWORD)
    assert cid in client.get(f"/members/{pid}").text
    client.post("/logout")
    login(client, youth, TEST_PASSWORD)
    page = client.get(f"/members/{pid}").text
    assert cid not in page and "••••••••" + cid[-4:] in page


def test_rotate_key_reencrypts_with_the_new_key_and_rehashes(app, runner):
    with app.app_context():
        tree = create_unit_tree(communes=1, villages=1)
        cids = [gen_citizen_id() for _ in range(3)]
        ids = [gen_person(tree.communes[0], citizen_id=c).id for c in cids]
        gen_person(tree.communes[0])  # without a citizen ID
        old_tokens = set(db.session.scalars(select(Person.citizen_id_enc).where(Person.citizen_id_enc.is_not(None))))
    new_key = Fernet.generate_key().decode()
    app.config["CDT_CITIZEN_ID_KEY"] = f"{new_key},{BASE_CONFIG['CDT_CITIZEN_ID_KEY']}"
    app.config["CDT_CITIZEN_ID_HASH_KEY"] = "a-new-hash-key-for-the-rotation-test"
    result = runner.invoke(args=["cdt", "privacy", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "3 citizen IDs re-encrypted" in result.output
    app.config["CDT_CITIZEN_ID_KEY"] = new_key  # the old key is gone: everything still opens
    with app.app_context():
        db.session.expire_all()
        assert [db.session.get(Person, i).citizen_id for i in ids] == cids
        assert not old_tokens & set(db.session.scalars(select(Person.citizen_id_enc)))
        assert db.session.scalar(select(Person.id).where(Person.citizen_id == cids[1])) == ids[1]
    # A key that opens nothing: a clear error, nothing changed.
    app.config["CDT_CITIZEN_ID_KEY"] = Fernet.generate_key().decode()
    failed = runner.invoke(args=["cdt", "privacy", "rotate-key"])
    assert failed.exit_code != 0 and "rotate-key" in failed.output


def test_development_generates_private_keys_once_and_production_refuses_without_them(monkeypatch, tmp_path,
                                                                                     database_url):
    for name in ("CDT_CITIZEN_ID_KEY", "CDT_CITIZEN_ID_HASH_KEY", "CDT_ENV"):
        monkeypatch.delenv(name, raising=False)
    keys = config_module.citizen_id_keys(str(tmp_path))
    Fernet(keys["CDT_CITIZEN_ID_KEY"])  # a valid key
    assert len(keys["CDT_CITIZEN_ID_HASH_KEY"]) >= 32
    for name in ("citizen_id_key", "citizen_id_hash_key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert config_module.citizen_id_keys(str(tmp_path)) == keys
    monkeypatch.setenv("CDT_CITIZEN_ID_KEY", "from-the-environment")
    assert config_module.citizen_id_keys(str(tmp_path))["CDT_CITIZEN_ID_KEY"] == "from-the-environment"

    production = {**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "CDT_ENV": "production",
                  "SECRET_KEY": "x7Kq2vLp9sWd4hTz8mNc3bRf6yGj1uQe5aXo0iVk",
                  "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
    with pytest.raises(ProductionConfigError, match="CDT_CITIZEN_ID_KEY is not set"):
        create_app({**production, "CDT_CITIZEN_ID_KEY": None})
    with pytest.raises(ProductionConfigError, match="CDT_CITIZEN_ID_HASH_KEY is not set"):
        create_app({**production, "CDT_CITIZEN_ID_HASH_KEY": ""})
    with pytest.raises(ProductionConfigError, match="not a Fernet key"):
        create_app({**production, "CDT_CITIZEN_ID_KEY": "not-a-key"})


def test_the_migration_converts_plain_citizen_ids_and_leaves_none(tmp_path):
    """A database at the revision before (plain citizen_id) upgraded: values encrypted and hashed,
    the plain column gone; the downgrade gives them back."""
    from flask_migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    plain = "001090123456"
    with app.app_context():
        upgrade(revision="aa511cdfeb6d")
        db.session.execute(text("INSERT INTO admin_unit (id, code, name, level, kind) "
                                "VALUES (1, '99', 'Tỉnh Thử', 'province', 'province')"))
        db.session.execute(text(
            "INSERT INTO person (id, full_name, search_name, gender, ethnicity, citizen_id, youth_union, "
            "province_id, commune_id, created_at, updated_at, version_id) VALUES "
            "(1, 'Lò Văn Cũ', 'lo van cu', 'male', 'kinh', :cid, 0, 1, 1, '2023-01-01', '2023-01-01', 1), "
            "(2, 'Lò Văn Không', 'lo van khong', 'male', 'kinh', NULL, 0, 1, 1, '2023-01-01', '2023-01-01', 1)"),
            {"cid": plain})
        db.session.commit()
        upgrade()
        columns = {c["name"] for c in inspect(db.engine).get_columns("person")}
        assert "citizen_id" not in columns and {"citizen_id_enc", "citizen_id_hash"} <= columns
        rows = db.session.execute(text("SELECT * FROM person ORDER BY id")).all()
        assert not any(plain in str(value) for row in rows for value in row)
        person = db.session.get(Person, 1)
        assert person.citizen_id == plain and db.session.get(Person, 2).citizen_id is None
        assert db.session.scalar(select(Person.id).where(Person.citizen_id == plain)) == 1
        assert db.session.scalar(text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")) == 6
        db.session.remove()
        downgrade(revision="aa511cdfeb6d")
        assert db.session.execute(text("SELECT citizen_id FROM person ORDER BY id")).scalars().all() == [plain, None]
        db.session.remove()
        db.engine.dispose()
    create_engine(url).dispose()
