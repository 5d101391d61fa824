"""People's records: found by blind index, encrypted per person, shredded for real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from server import db, people, vault
from server.config import Retention
from server.models.checkins import SealedNote
from server.models.people import Channel, Consent, Subscriber, TrustedContact
from server.phones import normalize_phone

ALICE = normalize_phone("+44 7700 900123")
BOB = normalize_phone("whatsapp:+1 202 555 0142")
CAROL = normalize_phone("+44 7700 900789")


@pytest.fixture
def database(app: Flask) -> db.Database:
    return db.get_database(app)


def ring(*entries: tuple[str, bytes]) -> vault.Keyring:
    return vault.Keyring(tuple(entries))


def test_a_registered_person_is_found_by_number_and_nothing_else(database: db.Database) -> None:
    with database.session() as session:
        people.register_subscriber(session, ALICE, locale="my", region_slug="sittwe")
    with database.session() as session:
        found = people.find_subscriber(session, normalize_phone("07700 900123", "GB"))
        assert found is not None
        assert found.phone == ALICE.e164
        assert found.locale == "my"
        assert found.channel is Channel.SMS
        assert people.find_subscriber(session, CAROL) is None
        assert found.phone_index != ALICE.e164.encode()
        assert ALICE.e164.encode() not in found.phone_ct


def test_a_whatsapp_number_is_remembered_as_such(database: db.Database) -> None:
    with database.session() as session:
        subscriber = people.register_subscriber(session, BOB)
    assert subscriber.channel is Channel.WHATSAPP


def test_each_person_has_their_own_data_key(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        bob = people.register_subscriber(session, BOB)
        assert alice.data_key() != bob.data_key()
        assert alice.wrapped_data_key != bob.wrapped_data_key


def test_conversation_state_round_trips_encrypted(database: db.Database) -> None:
    with database.session() as session:
        subscriber = people.register_subscriber(session, ALICE)
        people.save_state(subscriber, {"menu": "find", "query": "clinic near Cox's Bazar"})
    with database.session() as session:
        loaded = people.find_subscriber(session, ALICE)
        assert loaded is not None
        assert people.load_state(loaded) == {"menu": "find", "query": "clinic near Cox's Bazar"}
        assert loaded.state_ct is not None
        assert b"Cox" not in loaded.state_ct


def test_a_ciphertext_copied_to_another_person_does_not_open(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        bob = people.register_subscriber(session, BOB)
        bob.phone_ct = alice.phone_ct
        with pytest.raises(vault.DecryptionFailed):
            _ = bob.phone


def test_a_field_copied_to_another_column_of_the_same_row_does_not_open(
    database: db.Database,
) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        alice.state_ct = alice.phone_ct
        with pytest.raises(vault.DecryptionFailed):
            _ = alice.state


def test_trusted_contacts_are_encrypted_under_the_subscribers_key(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        people.add_trusted_contact(session, alice, CAROL, "Aunt Carol")
    with database.session() as session:
        alice_again = people.find_subscriber(session, ALICE)
        assert alice_again is not None
        (contact,) = alice_again.contacts
        assert contact.phone == CAROL.e164
        assert contact.name == "Aunt Carol"
        assert contact.consent is Consent.PENDING
        assert b"Carol" not in (contact.name_ct or b"")


def test_the_same_contact_cannot_be_trusted_twice(database: db.Database) -> None:
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        people.add_trusted_contact(session, alice, CAROL)
        with pytest.raises(people.ContactAlreadyTrusted):
            people.add_trusted_contact(session, alice, normalize_phone("07700 900789", "GB"))


def test_a_sealed_note_opens_only_with_the_ngos_private_key(database: db.Database) -> None:
    pem, public = vault.new_note_keypair()
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        people.leave_note(session, alice, public, "They took my brother's phone.")
    with database.session() as session:
        (record,) = list(people.export_notes(session))
    private = vault.load_note_private_key(pem)
    assert (
        vault.open_sealed(private, bytes.fromhex(record["sealed"]), record["context"])
        == "They took my brother's phone."
    )
    assert record["recipient"] == vault.key_fingerprint(public)
    other, _ = vault.new_note_keypair()
    with pytest.raises(vault.DecryptionFailed):
        vault.open_sealed(
            vault.load_note_private_key(other), bytes.fromhex(record["sealed"]), record["context"]
        )


def _count(database: db.Database, model: type[db.Base]) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_deleting_a_person_shreds_their_key_and_every_row(database: db.Database) -> None:
    _, public = vault.new_note_keypair()
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        people.add_trusted_contact(session, alice, CAROL, "Carol")
        people.leave_note(session, alice, public, "note")
        people.register_subscriber(session, BOB)
    with database.session() as session:
        alice = people.find_subscriber(session, ALICE)
        assert alice is not None
        phone_ct, row_id = alice.phone_ct, alice.envelope_row_id
        people.delete_subscriber(session, alice)
    with database.session() as session:
        assert people.find_subscriber(session, ALICE) is None
        assert people.find_subscriber(session, BOB) is not None
    assert _count(database, TrustedContact) == 0
    assert _count(database, SealedNote) == 0
    assert _count(database, Subscriber) == 1
    # Even holding every key, nothing can open the old ciphertext: its data key is gone.
    with pytest.raises(vault.DecryptionFailed):
        vault.decrypt_field(b"\x00" * 32, phone_ct, "subscribers", "phone", row_id)


def test_a_backup_taken_before_deletion_is_dead_once_its_master_key_is_retired(
    app: Flask, database: db.Database
) -> None:
    settings = app.extensions["refuge.settings"]
    with database.session() as session:
        alice = people.register_subscriber(session, ALICE)
        backup = (alice.wrapped_data_key, alice.phone_ct, alice.envelope_row_id)
    with database.session() as session:
        found = people.find_subscriber(session, ALICE)
        assert found is not None
        people.delete_subscriber(session, found)
    # The operator rotates every remaining key to k2 and retires the old master key.
    new_key = vault.decode_key(vault.new_key_settings()["REFUGE_INDEX_KEY"])
    old_id = settings.master_keys.current_id
    retired = vault.Vault(ring(("k2", new_key)), settings.index_key)
    wrapped, phone_ct, row_id = backup
    assert wrapped is not None
    with pytest.raises(vault.UnknownKeyId, match=repr(old_id)):
        retired.unwrap_data_key(wrapped, "subscribers", row_id)
    assert phone_ct  # the ciphertext in the backup stays, unopenable


@pytest.fixture
def two_key_databases(app: Flask) -> Iterator[tuple[db.Database, db.Database, db.Database]]:
    """The app's database (ring k1), and the same database seen with k2 added, then k1 gone."""
    settings = app.extensions["refuge.settings"]
    ((k1_id, k1),) = settings.master_keys.keys
    k2 = vault.decode_key(vault.new_key_settings()["REFUGE_INDEX_KEY"])
    url = make_url(str(db.get_database(app).engine.url.render_as_string(hide_password=False)))
    both = db.Database(url, vault.Vault(ring(("k2", k2), (k1_id, k1)), settings.index_key))
    only_new = db.Database(url, vault.Vault(ring(("k2", k2)), settings.index_key))
    yield db.get_database(app), both, only_new
    both.dispose()
    only_new.dispose()


def _numbers(count: int) -> list[str]:
    return [f"+4477009001{n:02d}" for n in range(count)]


def test_rotation_rewraps_every_key_without_touching_fields(
    two_key_databases: tuple[db.Database, db.Database, db.Database],
) -> None:
    old, both, only_new = two_key_databases
    with old.session() as session:
        for number in _numbers(7):
            people.register_subscriber(session, normalize_phone(number))
    with old.session() as session:
        before = {s.id: s.phone_ct for s in session.scalars(select(Subscriber))}

    batches: list[int] = []
    assert people.rotate_data_keys(both, batch_size=3, on_batch=batches.append) == 7
    assert batches == [3, 3, 1]
    assert people.count_keys_to_rotate(both) == 0

    with only_new.session() as session:
        rotated = session.scalars(select(Subscriber)).all()
        assert {s.id: s.phone_ct for s in rotated} == before
        assert {s.data_key_id for s in rotated} == {"k2"}
        assert sorted(s.phone or "" for s in rotated) == _numbers(7)


def test_an_interrupted_rotation_resumes_where_it_stopped(
    two_key_databases: tuple[db.Database, db.Database, db.Database],
) -> None:
    old, both, _ = two_key_databases
    with old.session() as session:
        for number in _numbers(5):
            people.register_subscriber(session, normalize_phone(number))

    def crash(_count: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        people.rotate_data_keys(both, batch_size=2, on_batch=crash)
    assert people.count_keys_to_rotate(both) == 3
    assert people.rotate_data_keys(both, batch_size=2) == 3
    assert people.count_keys_to_rotate(both) == 0


def test_a_retired_key_fails_closed_with_a_clear_error(
    two_key_databases: tuple[db.Database, db.Database, db.Database],
) -> None:
    old, _, only_new = two_key_databases
    with old.session() as session:
        people.register_subscriber(session, ALICE)
    with only_new.session() as session:
        subscriber = people.find_subscriber(session, ALICE)
        assert subscriber is not None
        with pytest.raises(vault.UnknownKeyId, match="REFUGE_MASTER_KEYS does not hold"):
            _ = subscriber.phone


def test_purge_shreds_only_people_inactive_past_retention(database: db.Database) -> None:
    today = date(2026, 11, 28)
    with database.session() as session:
        old = people.register_subscriber(session, ALICE, today=today - timedelta(days=200))
        people.add_trusted_contact(session, old, CAROL)
        people.register_subscriber(session, BOB, today=today - timedelta(days=10))
    with database.session() as session:
        report = people.purge(session, Retention(inactive_subscriber_days=180), today=today)
    assert report.as_dict() == {
        "inactive_subscribers": 1,
        "receipts": 0,
        "receipt_digests": 0,
        "sent_messages": 0,
        "outbound_counts": 0,
    }
    with database.session() as session:
        assert people.find_subscriber(session, ALICE) is None
        assert people.find_subscriber(session, BOB) is not None
    assert _count(database, TrustedContact) == 0


def test_a_row_outside_a_vault_session_cannot_be_read() -> None:
    from server.models.people import VaultUnavailable

    orphan = Subscriber(id=uuid.uuid4(), wrapped_data_key=b"x", phone_ct=b"y")
    with pytest.raises(VaultUnavailable):
        _ = orphan.phone


def test_purge_keeps_only_the_digest_of_receipts_past_retention_and_recent_ones_whole(
    database: db.Database,
) -> None:
    from server.models.messaging import InboundReceipt

    today = date(2026, 11, 28)
    with database.session() as session:
        person = people.register_subscriber(session, ALICE, today=today)
        for age, digest in ((30, b"o" * 32), (1, b"n" * 32)):
            receipt = InboundReceipt(digest=digest, received_on=today - timedelta(days=age))
            receipt.subscriber = person
            session.add(receipt)
            receipt.reply = "a reply that says what they asked for"
            receipt.locale = "my"
    with database.session() as session:
        report = people.purge(session, Retention(receipt_days=7), today=today)
    assert (report.receipts, report.receipt_digests) == (1, 0)
    with database.session() as session:
        kept = session.execute(
            select(
                InboundReceipt.digest,
                InboundReceipt.subscriber_id.is_not(None),
                InboundReceipt.reply_ct.is_not(None),
                InboundReceipt.locale,
            ).order_by(InboundReceipt.digest)
        ).all()
    assert [tuple(row) for row in kept] == [
        (b"n" * 32, True, True, "my"),
        (b"o" * 32, False, False, "en"),
    ]


def test_purge_deletes_the_daily_cap_counts_of_past_days(database: db.Database) -> None:
    from server.models.messaging import OutboundCount

    today = date(2026, 11, 28)
    with database.session() as session:
        for age in (0, 1, 2, 3, 40):
            day = today - timedelta(days=age)
            session.add(OutboundCount(scope="number", subject=b"d" * 32, day=day, count=3))
    with database.session() as session:
        report = people.purge(session, Retention(), today=today)
    assert report.outbound_counts == 2
    with database.session() as session:
        days = session.scalars(select(OutboundCount.day).order_by(OutboundCount.day)).all()
    assert days == [today - timedelta(days=age) for age in (2, 1, 0)]
