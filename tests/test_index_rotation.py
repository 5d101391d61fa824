"""Index keys rotate: after `refuge keys rotate-index` and retiring the old version, a backup
taken before the rotation cannot be matched to any number with the keys that remain.

The adversary holds an old backup and, later, the server's current keys: before rotation
they could enumerate the number space against every blind index in the backup (erased
people and contacts included); after it, nothing they compute matches.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from server import db, people, staff, vault
from server.app import create_app
from server.config import ConfigError, load_config
from server.models.people import Subscriber, TrustedContact
from server.phones import normalize_phone
from tests.conftest import refuge_env
from tests.portal_helpers import PASSWORD, add_account, add_ngo
from tests.sms_helpers import Handset

ALICE = normalize_phone("+44 7700 900301")
BOB = normalize_phone("+44 7700 900302")
CAROL = normalize_phone("+44 7700 900303")  # erased before the rotation
DAVE = normalize_phone("+44 7700 900304")  # arrives in the middle of it
#: The enumeration an attacker runs: every number of a block holding all of the above.
BLOCK = [normalize_phone(f"+44 7700 900{n:03d}").e164 for n in range(300, 400)]


def invoke(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


@dataclass
class Instance:
    """One deployment's environment, and an app built from it as it stands now."""

    env: dict[str, str]

    def app(self) -> Flask:
        application = create_app(load_config(self.env))
        self._apps.append(application)
        return application

    def __post_init__(self) -> None:
        self._apps: list[Flask] = []

    def dispose(self) -> None:
        for application in self._apps:
            db.get_database(application).dispose()


@pytest.fixture
def instance(tmp_path: Path, database_url: str) -> Iterator[Instance]:
    """An instance whose index key is a bare key, as every deployment before versions had."""
    deployment = Instance(refuge_env(tmp_path, REFUGE_DATABASE_URL=database_url))
    db.Base.metadata.create_all(db.get_database(deployment.app()).engine)
    yield deployment
    deployment.dispose()


def _blind_indexes(app: Flask) -> set[bytes]:
    """Every blind index in the database: what a backup of it holds."""
    with db.get_database(app).session() as session:
        found = set(session.scalars(select(Subscriber.phone_index)))
        return found | set(session.scalars(select(TrustedContact.phone_index)))


def _matches(app: Flask, backup: set[bytes]) -> list[str]:
    """The numbers of the block whose blind index, under any key the app holds, is in backup."""
    keys = db.get_database(app).vault
    assert keys is not None
    return [number for number in BLOCK if set(keys.blind_indexes(number)) & backup]


def _people(app: Flask) -> None:
    with db.get_database(app).session() as session:
        alice = people.register_subscriber(session, ALICE)
        bob = people.register_subscriber(session, BOB)
        people.add_trusted_contact(session, alice, CAROL, name="Carol")
        people.add_trusted_contact(session, bob, ALICE, name="Alice")  # a number on two rows
        carol = people.register_subscriber(session, CAROL)
        session.flush()
        people.delete_subscriber(session, carol)  # erased; still Alice's contact


def _add_version(instance: Instance, app: Flask) -> None:
    """What the operator does with `--new-key`'s output: the new version first in the ring."""
    printed = invoke(app, "keys", "rotate-index", "--new-key")
    assert printed.exit_code == 0, printed.output
    entry = re.search(r"REFUGE_INDEX_KEY: (i2:[A-Za-z0-9_-]+),", printed.output)
    assert entry is not None, printed.output
    instance.env["REFUGE_INDEX_KEY"] = f"{entry.group(1)},i1:{instance.env['REFUGE_INDEX_KEY']}"


def test_a_backup_from_before_the_rotation_matches_no_number_once_the_old_key_is_retired(
    instance: Instance,
) -> None:
    before = instance.app()
    _people(before)
    backup = _blind_indexes(before)
    # Before: the current key matches every number in the backup, the erased one too.
    assert _matches(before, backup) == sorted([ALICE.e164, BOB.e164, CAROL.e164])

    _add_version(instance, before)
    both = instance.app()
    with db.get_database(both).session() as session:
        # Mid-rotation: people indexed under i1 are still found, and newcomers go under i2.
        assert people.find_subscriber(session, ALICE) is not None
        dave = people.register_subscriber(session, DAVE)
        session.flush()
        assert dave.phone_index_key == "i2"
    rotated = invoke(both, "keys", "rotate-index", "--batch-size", "1")
    assert rotated.exit_code == 0, rotated.output
    assert "every blind index is under i2" in rotated.output
    assert invoke(both, "keys", "rotate-index", "--retire", "i1").exit_code == 0

    instance.env["REFUGE_INDEX_KEY"] = instance.env["REFUGE_INDEX_KEY"].split(",")[0]
    after = instance.app()
    assert _matches(after, backup) == []
    assert _blind_indexes(after).isdisjoint(backup)
    with db.get_database(after).session() as session:
        alice = people.find_subscriber(session, ALICE)
        bob = people.find_subscriber(session, BOB)
        assert alice is not None
        assert bob is not None
        assert people.find_subscriber(session, CAROL) is None
        # The two rows naming Alice's number still name the same number.
        assert [c.phone_index for c in bob.contacts] == [alice.phone_index]
        assert {c.phone for c in alice.contacts} == {CAROL.e164}


def test_rotation_is_refused_retirement_while_a_row_is_still_under_the_old_version(
    instance: Instance,
) -> None:
    before = instance.app()
    _people(before)
    _add_version(instance, before)
    both = instance.app()
    refused = both.test_cli_runner().invoke(args=["keys", "rotate-index", "--retire", "i1"])
    assert refused.exit_code == 1
    assert "subscribers: blind indexes: 2 still need i1" in refused.output
    current = both.test_cli_runner().invoke(args=["keys", "rotate-index", "--retire", "i2"])
    assert current.exit_code == 1
    assert "current version" in current.output


def test_a_person_texting_in_the_middle_of_a_rotation_is_the_same_person(
    instance: Instance,
) -> None:
    before = instance.app()
    handset = Handset(before, ALICE.e164)
    handset.ask("HELLO")
    _add_version(instance, before)
    both = instance.app()
    Handset(both, ALICE.e164).ask("HELLO")
    with db.get_database(both).session() as session:
        assert len(session.scalars(select(Subscriber)).all()) == 1


def test_a_message_received_before_the_rotation_is_still_answered_once(
    instance: Instance,
) -> None:
    before = instance.app()
    first = Handset(before, ALICE.e164).send("HELLO", sid="SM" + "1" * 32)
    _add_version(instance, before)
    both = instance.app()
    replayed = Handset(both, ALICE.e164).send("HELLO", sid="SM" + "1" * 32)
    assert replayed.messages == first.messages
    with db.get_database(both).session() as session:
        assert people.find_subscriber(session, ALICE) is not None


def test_a_pin_made_under_a_version_stops_matching_only_when_that_version_is_retired() -> None:
    master = vault.parse_keyring(vault.new_key_settings()["REFUGE_MASTER_KEYS"])
    i1 = vault.decode_key(vault.new_key_settings()["REFUGE_INDEX_KEY"])
    i2 = vault.decode_key(vault.new_key_settings()["REFUGE_INDEX_KEY"])
    old = vault.Vault(master, i1)
    both = vault.Vault(master, vault.Keyring((("i2", i2), ("i1", i1))))
    only_new = vault.Vault(master, vault.Keyring((("i2", i2),)))
    made_before = old.hash_pin("482913")
    made_after = both.hash_pin("482913")
    assert both.verify_pin(made_before, "482913")
    assert not both.verify_pin(made_before, "482914")
    assert only_new.verify_pin(made_after, "482913")
    assert not only_new.verify_pin(made_before, "482913")  # fails closed, never open
    assert not old.verify_pin(made_after, "482913")
    password = both.hash_password("correct horse battery")
    assert only_new.verify_password(password, "correct horse battery")
    assert not old.verify_password(password, "correct horse battery")


def test_an_index_key_without_a_version_is_version_i1(tmp_path: Path) -> None:
    env = refuge_env(tmp_path)
    bare = env["REFUGE_INDEX_KEY"]
    assert load_config(env).index_keys.ids() == ("i1",)
    env["REFUGE_INDEX_KEY"] = f"{vault.new_index_key_entry('i2')},i1:{bare}"
    ring = load_config(env).index_keys
    assert ring.ids() == ("i2", "i1")
    assert ring.get("i1") == vault.decode_key(bare)
    env["REFUGE_INDEX_KEY"] = f"{vault.new_index_key_entry('i2')},{bare}"  # as the key was
    assert load_config(env).index_keys.ids() == ("i2", "i1")
    env["REFUGE_INDEX_KEY"] = f"i2:{bare},i1:{bare}"
    with pytest.raises(ConfigError, match="REFUGE_INDEX_KEY holds the same key under two ids"):
        load_config(env)


def test_keys_generate_can_name_the_index_key_version(app: Flask, tmp_path: Path) -> None:
    result = invoke(app, "keys", "generate", "--index-key-id", "i3")
    generated = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert generated["REFUGE_INDEX_KEY"].startswith("i3:")
    assert load_config({**refuge_env(tmp_path), **generated}).index_keys.ids() == ("i3",)


def test_a_portal_password_moves_to_the_new_version_at_its_next_login(
    instance: Instance,
) -> None:
    before = instance.app()
    add_ngo(before, "kharkiv", "Aid")
    account = add_account(before, "caseworker", "kharkiv")
    _add_version(instance, before)
    both = instance.app()
    blocked = both.test_cli_runner().invoke(args=["keys", "rotate-index", "--retire", "i1"])
    assert "users: password_hash: 1 still need i1" in blocked.output
    with db.get_database(both).session() as session:
        user = staff.log_in(session, account.username, PASSWORD, account.code(), datetime.now(UTC))
        assert user is not None
    assert invoke(both, "keys", "rotate-index", "--retire", "i1").exit_code == 0
    instance.env["REFUGE_INDEX_KEY"] = instance.env["REFUGE_INDEX_KEY"].split(",")[0]
    after = instance.app()
    with db.get_database(after).session() as session:
        later = time.time() + 60  # a TOTP step is accepted once: log in a minute later
        code, at = account.code(later), datetime.fromtimestamp(later, UTC)
        assert staff.log_in(session, account.username, PASSWORD, code, at) is not None
