"""Key rotation: walk every registered row kind and move it under the current master key.

Rows holding a wrapped data key get it re-wrapped (their fields are untouched); fields sealed
directly under the master keyring are re-sealed. Each batch commits on its own, so a run that
stops resumes where it left off. A row that cannot be moved (its master key already retired)
is counted and named in the report, never skipped silently.

The registry holds the models imported so far: callers import `server.models` first (the CLI
does), and every registered model has a uuid `id` to page through.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement, ScalarResult, Select, func, or_, select
from sqlalchemy.orm import Session

from server.vault.core import Vault
from server.vault.envelopes import EnvelopeMalformed, VaultError, envelope_key_id
from server.vault.fields import (
    KeyHolder,
    SealedColumn,
    Under,
    VaultUnavailable,
    key_holders,
    sealed_columns,
)


class Sessions(Protocol):
    """What rotation needs of a database: its vault and committed sessions (a `Database`)."""

    vault: Vault | None

    def session(self) -> AbstractContextManager[Session]: ...


@dataclass
class KindReport:
    """What rotation did to one row kind."""

    kind: str
    moved: int = 0
    failed: int = 0
    #: Why the first row that could not be moved could not.
    error: VaultError | None = None

    def failure(self, error: VaultError) -> None:
        """Count a row that could not be moved, keeping the first reason."""
        self.failed += 1
        if self.error is None:
            self.error = error


@dataclass
class RotationReport:
    """Per row kind, how many rows rotation moved under the current key and how many failed."""

    current: str
    kinds: list[KindReport] = field(default_factory=list)

    @property
    def moved(self) -> int:
        """Rows moved, every kind together."""
        return sum(kind.moved for kind in self.kinds)

    @property
    def failed(self) -> int:
        """Rows that could not be moved, every kind together."""
        return sum(kind.failed for kind in self.kinds)


def _vault(database: Sessions) -> Vault:
    if database.vault is None:
        raise VaultUnavailable("key rotation needs a Database with a Vault")
    return database.vault


#: The end of the name of a report on rows holding data keys.
DATA_KEYS = "data keys"


def current_key_id(database: Sessions) -> str:
    """The master key rotation moves everything under."""
    return _vault(database).current_key_id


def holder_kind(holder: KeyHolder) -> str:
    """How a report names a kind of row holding data keys."""
    return f"{holder.table}: {DATA_KEYS}"


def fields_kind(model: type, columns: list[SealedColumn]) -> str:
    """How a report names the master-sealed fields of a model."""
    names = ", ".join(column.field for column in columns)
    return f"{getattr(model, '__tablename__')}: {names}"  # noqa: B009


def _master_fields() -> dict[type, list[SealedColumn]]:
    grouped: dict[type, list[SealedColumn]] = {}
    for column in sealed_columns():
        if column.under is Under.MASTER:
            grouped.setdefault(column.model, []).append(column)
    return grouped


def _stale(envelope: bytes | None, current: str) -> bool:
    if envelope is None:
        return False
    try:
        return envelope_key_id(envelope) != current
    except EnvelopeMalformed:
        return True  # counted, and reported as a failure when rotated


def _holder_filter(holder: KeyHolder, current: str) -> list[ColumnElement[bool]]:
    wrapped = getattr(holder.model, holder.wrapped_attribute)
    conditions: list[ColumnElement[bool]] = [wrapped.is_not(None)]
    if holder.key_id_attribute is not None:
        conditions.append(getattr(holder.model, holder.key_id_attribute) != current)
    return conditions


def _field_filter(model: type, columns: list[SealedColumn]) -> list[ColumnElement[bool]]:
    return [or_(*(getattr(model, c.column_attribute).is_not(None) for c in columns))]


def _walk(
    database: Sessions,
    model: type,
    conditions: list[ColumnElement[bool]],
    batch_size: int,
    move: Callable[[Any], int],
    on_batch: Callable[[int], None] | None,
) -> None:
    """Move rows in id order, committing each batch before reporting it; keyset paging, so
    a row that failed is not read again in the same run."""
    ids = model.id  # type: ignore[attr-defined]
    after: uuid.UUID | None = None
    while True:
        with database.session() as session:
            statement: Select[Any] = (
                select(model).where(*conditions).order_by(ids).limit(batch_size)
            )
            if after is not None:
                statement = statement.where(ids > after)
            rows = list(session.scalars(statement))
            done = sum(move(row) for row in rows)
        if not rows:
            return
        after = rows[-1].id
        if on_batch and done:
            on_batch(done)


def pending(database: Sessions) -> dict[str, int]:
    """Per row kind, how many rows are not yet under the current master key."""
    keys = _vault(database)
    current = keys.current_key_id
    counts: dict[str, int] = {}
    with database.session() as session:
        for holder in key_holders():
            conditions = _holder_filter(holder, current)
            if holder.key_id_attribute is not None:
                statement = select(func.count()).select_from(holder.model).where(*conditions)
                counts[holder_kind(holder)] = int(session.scalar(statement) or 0)
                continue
            wrapped = getattr(holder.model, holder.wrapped_attribute)
            found = session.scalars(select(wrapped).where(*conditions))
            counts[holder_kind(holder)] = sum(_stale(envelope, current) for envelope in found)
        for model, columns in _master_fields().items():
            rows: ScalarResult[Any] = session.scalars(
                select(model).where(*_field_filter(model, columns))
            )
            counts[fields_kind(model, columns)] = sum(
                any(_stale(getattr(row, c.column_attribute), current) for c in columns)
                for row in rows
            )
    return counts


def rotate(
    database: Sessions, batch_size: int = 500, on_batch: Callable[[int], None] | None = None
) -> RotationReport:
    """Move every registered row kind under the current master key, a batch at a time."""
    keys = _vault(database)
    report = RotationReport(keys.current_key_id)
    for holder in key_holders():
        kind = KindReport(holder_kind(holder))
        report.kinds.append(kind)
        conditions = _holder_filter(holder, keys.current_key_id)
        move = functools.partial(_rewrap, keys, holder, kind=kind)
        _walk(database, holder.model, conditions, batch_size, move, on_batch)
    for model, columns in _master_fields().items():
        kind = KindReport(fields_kind(model, columns))
        report.kinds.append(kind)
        move = functools.partial(_reseal, keys, columns, kind=kind)
        _walk(database, model, _field_filter(model, columns), batch_size, move, on_batch)
    return report


def _rewrap(keys: Vault, holder: KeyHolder, row: Any, *, kind: KindReport) -> int:
    """1 when the row was looked at for a move (moved or failed), else 0."""
    wrapped: bytes = getattr(row, holder.wrapped_attribute)
    try:
        rewrapped = keys.rewrap_data_key(wrapped, holder.table, row.envelope_row_id)
    except VaultError as error:
        kind.failure(error)
        return 1
    if rewrapped is not None:
        setattr(row, holder.wrapped_attribute, rewrapped)
    if holder.key_id_attribute is not None:
        setattr(row, holder.key_id_attribute, keys.current_key_id)
    elif rewrapped is None:
        return 0  # already current; only a key id column would have said so in advance
    kind.moved += 1
    return 1


def _reseal(keys: Vault, columns: list[SealedColumn], row: Any, *, kind: KindReport) -> int:
    moved = False
    for column in columns:
        envelope: bytes | None = getattr(row, column.column_attribute)
        if envelope is None:
            continue
        try:
            resealed = keys.reseal_master_field(
                envelope, column.table, column.field, row.envelope_row_id
            )
        except VaultError as error:
            kind.failure(error)
            return 1
        if resealed is not None:
            setattr(row, column.column_attribute, resealed)
            moved = True
    if moved:
        kind.moved += 1
    return int(moved)
