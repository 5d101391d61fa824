"""The vault's cost over the raw primitives: field encryption, and blind-index lookups.

- A 160-byte field encrypted then decrypted by `encrypt_field`/`decrypt_field`, against
  AES-256-GCM alone doing the same job (fresh random nonce, same associated data).
- One subscriber found among 100,000 by `find_subscriber` (HMAC blind index, ORM query),
  against an indexed lookup on a plaintext UNIQUE column in the same SQLite file, through the
  same session. A third figure runs the blind index through the same core query as the
  baseline, separating the vault's cost (the HMAC) from the ORM's (building a Subscriber).
"""

from __future__ import annotations

import itertools
import os
import random
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import server.models  # noqa: F401  (registers every table on Base.metadata)
from bench.harness import Result, interleave, time_per_op
from server import vault
from server.db import Base, Database
from server.models.people import Subscriber
from server.people import find_subscriber
from server.phones import PhoneNumber

SUBSCRIBERS = 100_000
FIELD_BYTES = 160
INSERT_BATCH = 10_000
ROUNDS = 5  # pairs of rounds: ours then baseline, then baseline then ours, ...
MICROSECONDS = 1e6
GOAL = "<= 2.0x (time per op, lower is better)"
SEED = 20_240_601

#: The field's place: bound into the associated data of both sides.
TABLE, COLUMN = "subscribers", "state"


def _vault() -> vault.Vault:
    """A vault with fresh keys, built the way load_config builds one from settings."""
    settings = vault.new_key_settings()
    return vault.Vault(
        vault.parse_keyring(settings["REFUGE_MASTER_KEYS"]),
        vault.decode_key(settings["REFUGE_INDEX_KEY"]),
    )


def _field_text() -> str:
    """A 160-byte ASCII string, shaped like a conversation state."""
    text = '{"step":"checkin","region":"north-east","lang":"en","pending":['
    text += ",".join(f'"c{n:02d}"' for n in range(20))
    text = text[: FIELD_BYTES - 2] + "]}"
    assert len(text.encode("ascii")) == FIELD_BYTES
    return text


def field_figure() -> Result:
    """encrypt_field + decrypt_field of 160 bytes against AESGCM encrypt + decrypt."""
    key = os.urandom(vault.KEY_BYTES)
    row_id = uuid.uuid4().hex
    text = _field_text()
    data = text.encode("ascii")
    aad = vault.associated_data(TABLE, COLUMN, row_id)

    def ours() -> str:
        sealed = vault.encrypt_field(key, text, TABLE, COLUMN, row_id)
        return vault.decrypt_field(key, sealed, TABLE, COLUMN, row_id)

    def raw() -> bytes:
        nonce = os.urandom(vault.NONCE_BYTES)
        return AESGCM(key).decrypt(nonce, AESGCM(key).encrypt(nonce, data, aad), aad)

    assert ours() == text
    assert raw() == data
    ours_s, raw_s = interleave(lambda: time_per_op(ours), lambda: time_per_op(raw), ROUNDS)
    return Result(
        figure=f"vault field encrypt+decrypt ({FIELD_BYTES} B)",
        unit="µs/op",
        ours=round(ours_s * MICROSECONDS, 2),
        baseline=round(raw_s * MICROSECONDS, 2),
        goal=GOAL,
    )


def fictional_numbers(count: int = SUBSCRIBERS) -> list[str]:
    """`count` distinct E.164 strings (+4477009 and five digits; never dialled)."""
    assert count <= SUBSCRIBERS
    return [f"+4477009{n:05d}" for n in range(count)]


def _subscriber_rows(keys: vault.Vault, numbers: list[str]) -> Iterator[dict[str, Any]]:
    """Rows as register_subscriber writes them: own data key, sealed phone, blind index."""
    for e164 in numbers:
        row_id = uuid.uuid4()
        data_key, wrapped = keys.new_data_key(Subscriber.__tablename__, row_id.hex)
        yield {
            "id": row_id,
            "phone_index": keys.blind_index(e164),
            "phone": Subscriber.phone.seal(data_key, row_id.hex, e164),
            "wrapped_data_key": wrapped,
            "data_key_id": keys.current_key_id,
        }


def plain_table(metadata: MetaData) -> Table:
    """The baseline: the same numbers as plaintext in an indexed (UNIQUE) column."""
    return Table(
        "plain_subscribers",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("phone", Text, unique=True),
    )


def populate(database: Database, plain: Table, numbers: list[str]) -> None:
    """Create the schema and bulk-insert every number into both tables."""
    assert database.vault is not None
    Base.metadata.create_all(database.engine)
    assert plain.metadata is not None
    plain.metadata.create_all(database.engine)
    subscribers = Base.metadata.tables[Subscriber.__tablename__]
    rows = _subscriber_rows(database.vault, numbers)
    with database.engine.begin() as connection:
        while batch := list(itertools.islice(rows, INSERT_BATCH)):
            connection.execute(insert(subscribers), batch)
        connection.execute(insert(plain), [{"phone": e164} for e164 in numbers])


def _cycle(items: list[Any], rng: random.Random) -> Callable[[], Any]:
    """An endless random walk over `items`, cheap enough not to show in a lookup's time."""
    shuffled = list(items)
    rng.shuffle(shuffled)
    return itertools.cycle(shuffled).__next__


def _timed(func: Callable[[], object]) -> Callable[[], float]:
    """A measurement for `interleave`: median seconds per call of `func`."""
    return lambda: time_per_op(func)


def lookup_figures(session: Session, plain: Table, numbers: list[str]) -> list[Result]:
    """find_subscriber, and the blind index through core, each against the plaintext column."""
    keys = session.info["vault"]
    assert isinstance(keys, vault.Vault)
    subscribers = Base.metadata.tables[Subscriber.__tablename__]
    rng = random.Random(SEED)
    next_phone = _cycle([PhoneNumber(e164) for e164 in numbers], rng)
    next_number = _cycle(numbers, rng)

    def ours_orm() -> Subscriber | None:
        return find_subscriber(session, next_phone())

    def ours_core() -> object:
        index = keys.blind_index(next_number())
        return session.execute(
            select(subscribers.c.id).where(subscribers.c.phone_index == index)
        ).scalar()

    def plaintext() -> object:
        return session.execute(select(plain.c.id).where(plain.c.phone == next_number())).scalar()

    probe = numbers[len(numbers) // 2]  # the rows are real: the sealed number opens again
    found = find_subscriber(session, PhoneNumber(probe))
    assert found is not None
    assert found.phone == probe
    for func in (ours_orm, ours_core, plaintext):  # statement caches and page cache warm
        for _ in range(200):
            assert func() is not None

    orm_s, plain_orm_s = interleave(_timed(ours_orm), _timed(plaintext), ROUNDS)
    core_s, plain_core_s = interleave(_timed(ours_core), _timed(plaintext), ROUNDS)
    among = f"among {len(numbers):,}"
    return [
        Result(
            figure=f"blind-index lookup {among}",
            unit="µs/op",
            ours=round(orm_s * MICROSECONDS, 2),
            baseline=round(plain_orm_s * MICROSECONDS, 2),
            goal=GOAL,
        ),
        Result(
            figure=f"blind-index lookup {among} (core query)",
            unit="µs/op",
            ours=round(core_s * MICROSECONDS, 2),
            baseline=round(plain_core_s * MICROSECONDS, 2),
            goal=f"{GOAL}; HMAC + core select, no ORM object",
        ),
    ]


def run() -> list[Result]:
    """Time the vault's field encryption and blind-index lookups against the raw primitives."""
    results = [field_figure()]
    numbers = fictional_numbers()
    with tempfile.TemporaryDirectory(prefix="refuge-bench-vault-") as tmp:
        url = make_url(f"sqlite:///{Path(tmp) / 'vault.sqlite3'}")
        database = Database(url, _vault())
        try:
            plain = plain_table(MetaData())
            populate(database, plain, numbers)
            with database.session() as session:
                results += lookup_figures(session, plain, numbers)
        finally:
            database.dispose()
    return results
