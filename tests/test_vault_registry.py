"""The registry knows every encrypted column and every wrapped key, so rotation misses none.

A column is caught two ways: by the mechanism's own column types (`Ciphertext`, `WrappedKey`)
and, for a plain `LargeBinary` someone forgot to mark, by a name that sounds secret.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import LargeBinary
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

import server.models  # noqa: F401  (every model registers its fields on import)
from server.db import Base
from server.vault import Ciphertext, WrappedKey, fields

#: Binary columns whose names sound secret but hold nothing under a server key, and why.
NOT_UNDER_OUR_KEYS = {
    ("sealed_notes", "sealed"): "HPKE to the NGO's public key; the server cannot open it",
    ("checkin_partners", "note_key"): "the NGO's public key",
}
SOUNDS_SECRET = re.compile(r"_ct$|wrapped|data_key|secret|cipher|sealed|envelope|(^|_)key$")


def unknown_to_the_registry(mappers: registry) -> list[str]:
    """Every binary column of these models that holds ciphertext or a wrapped key unregistered."""
    sealed = {(c.model, c.column_attribute) for c in fields.sealed_columns()}
    wrapped = {(h.model, h.wrapped_attribute) for h in fields.key_holders()}
    unknown = []
    for mapper in mappers.mappers:
        table = mapper.local_table.name  # type: ignore[union-attr]
        for attribute in mapper.column_attrs:
            column = attribute.columns[0]
            place = (mapper.class_, attribute.key)
            where = f"{table}.{column.name} ({mapper.class_.__name__}.{attribute.key})"
            if isinstance(column.type, Ciphertext) and place not in sealed:
                unknown.append(f"{where}: a Ciphertext column without an EncryptedField")
            elif isinstance(column.type, WrappedKey) and place not in wrapped:
                unknown.append(f"{where}: a WrappedKey column on a model without OwnsDataKey")
            elif (
                isinstance(column.type, LargeBinary)
                and (place not in sealed and place not in wrapped)
                and (SOUNDS_SECRET.search(column.name) or SOUNDS_SECRET.search(attribute.key))
                and (table, column.name) not in NOT_UNDER_OUR_KEYS
            ):
                unknown.append(f"{where}: a binary column named like a secret, unregistered")
    return unknown


def test_every_encrypted_column_and_wrapped_key_is_registered() -> None:
    assert unknown_to_the_registry(Base.registry) == []


def test_every_registered_field_is_stored_in_a_ciphertext_column() -> None:
    for field in fields.sealed_columns():
        column = getattr(field.model, field.column_attribute).property.columns[0]
        assert isinstance(column.type, Ciphertext), f"{field.table}.{field.field}"


def test_every_row_kind_holding_a_wrapped_key_is_registered_for_rotation() -> None:
    tables = {holder.table for holder in fields.key_holders()}
    assert {"subscribers", "provider_deletions"} <= tables
    master = {(c.table, c.field) for c in fields.sealed_columns() if c.under is fields.Under.MASTER}
    assert master == {("checkin_partners", "alert_phone"), ("portal_users", "totp_secret")}


class _Elsewhere(DeclarativeBase):
    """A model base of its own, so the decoys below never reach Refuge's metadata."""


class _ForgotTheMechanism(_Elsewhere):
    __tablename__ = "decoy_forgotten"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary)  # no WrappedKey, no mixin
    address_ct: Mapped[bytes] = mapped_column("address", LargeBinary)
    digest: Mapped[bytes] = mapped_column(LargeBinary)  # a digest is no secret


class _MarkedButUnregistered(_Elsewhere):
    __tablename__ = "decoy_marked"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    blob: Mapped[bytes] = mapped_column(WrappedKey)
    words: Mapped[bytes] = mapped_column(Ciphertext)


def test_a_model_holding_an_unregistered_key_or_ciphertext_is_caught() -> None:
    found = unknown_to_the_registry(_Elsewhere.registry)
    assert len(found) == 4, found
    assert any("decoy_forgotten.wrapped_data_key" in line for line in found)
    assert any("decoy_forgotten.address" in line for line in found)
    assert not any("digest" in line for line in found)
    assert any("decoy_marked.blob" in line and "OwnsDataKey" in line for line in found)
    assert any("decoy_marked.words" in line and "EncryptedField" in line for line in found)
