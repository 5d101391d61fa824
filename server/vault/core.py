"""The Vault: one instance's keys, and every operation that needs them.

Two roots, two lifetimes. The master keyring rotates: it wraps each row's data key and seals
the fields that belong to no person (an NGO's alert line, a portal account's TOTP seed). The
index key never rotates, because what it roots must stay stable: blind indexes and keyed
digests (rows are found by them), and the PIN and password peppers (a hash cannot be redone
without the secret, so a new pepper would lock everyone out).
"""

from __future__ import annotations

import hashlib
import hmac

from server.vault import credentials
from server.vault.envelopes import (
    PADDED_VERSION,
    Place,
    UnknownKeyId,
    associated_data,
    envelope_key_id,
    envelope_version,
    open_at,
    open_envelope,
    seal_at,
    seal_envelope,
)
from server.vault.keys import Keyring, derive_key, new_data_key

#: Key ids of fields sealed under keys derived from the index key before migration 0009.
LEGACY_PARTNER_KEY_ID = "pk1"
LEGACY_STAFF_KEY_ID = "sk1"


class Vault:
    """The keys of one Refuge instance and every operation that uses them."""

    def __init__(self, master_keys: Keyring, index_key: bytes) -> None:
        self._current = master_keys.current_id
        self._wrapping = {
            kid: derive_key(key, "data-key-wrapping") for kid, key in master_keys.keys
        }
        self._fields = {kid: derive_key(key, "master-fields") for kid, key in master_keys.keys}
        self._index = derive_key(index_key, "phone-blind-index")
        self._digest = derive_key(index_key, "keyed-digest")
        self._pepper = derive_key(index_key, "pin-pepper")
        self._password_pepper = derive_key(index_key, "password-pepper")
        self._index_key = index_key

    def __repr__(self) -> str:
        return f"Vault(current={self._current!r}, keys={tuple(self._wrapping)!r})"

    @property
    def current_key_id(self) -> str:
        """The master key that wraps new data keys and seals new master fields."""
        return self._current

    # --- What the index key roots: stable for the life of the instance ---------------------

    def blind_index(self, e164: str) -> bytes:
        """HMAC-SHA256 of an E.164 number: finds a person without storing their number."""
        return hmac.new(self._index, e164.encode("ascii"), hashlib.sha256).digest()

    def keyed_digest(self, purpose: str, value: str) -> bytes:
        """A keyed digest of an identifier (a provider's message id, say) for one purpose."""
        message = purpose.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._digest, message, hashlib.sha256).digest()

    def hash_pin(self, pin: str) -> str:
        """A slow, salted, peppered hash of a check-in PIN (argon2id over a keyed HMAC)."""
        return credentials.hash_pin(self._pepper, pin)

    def verify_pin(self, hashed: str | None, pin: str) -> bool:
        """Whether a PIN matches a hash; the same slow work is done when there is no hash."""
        return credentials.verify_pin(self._pepper, hashed, pin)

    def hash_password(self, password: str) -> str:
        """A slow, salted, peppered hash of a portal password (argon2id over a keyed HMAC)."""
        return credentials.hash_password(self._password_pepper, password)

    def verify_password(self, hashed: str | None, password: str) -> bool:
        """Whether a password matches; the same slow work is done for an unknown account."""
        return credentials.verify_password(self._password_pepper, hashed, password)

    # --- What the master keyring roots: rotated by `refuge keys rotate` ---------------------

    def new_data_key(self, table: str, row_id: str) -> tuple[bytes, bytes]:
        """A fresh random data key and its envelope wrapped under the current master key."""
        data_key = new_data_key()
        return data_key, self._wrap(data_key, table, row_id)

    def unwrap_data_key(self, wrapped: bytes, table: str, row_id: str) -> bytes:
        """The data key of one row; fails closed when its master key has been retired."""
        try:
            return open_envelope(self._wrapping.get, wrapped, _wrap_aad(table, row_id))
        except UnknownKeyId:
            raise _retired("a data key", table, envelope_key_id(wrapped)) from None

    def rewrap_data_key(self, wrapped: bytes, table: str, row_id: str) -> bytes | None:
        """The data key wrapped under the current master key, or None when it already is."""
        if envelope_key_id(wrapped) == self._current:
            return None
        return self._wrap(self.unwrap_data_key(wrapped, table, row_id), table, row_id)

    def _wrap(self, data_key: bytes, table: str, row_id: str) -> bytes:
        wrapping = self._wrapping[self._current]
        return seal_envelope(wrapping, self._current, data_key, _wrap_aad(table, row_id))

    def seal_master_field(
        self, value: bytes, table: str, column: str, row_id: str, counter: int | None = None
    ) -> bytes:
        """Encrypt a field that belongs to no person under the current master key (padded)."""
        place = Place(table, column, row_id, counter)
        return seal_at(self._fields[self._current], self._current, value, place)

    def open_master_field(
        self, envelope: bytes, table: str, column: str, row_id: str, counter: int | None = None
    ) -> bytes:
        """Decrypt a field sealed by `seal_master_field` under any key still in the ring."""
        try:
            return open_at(self._fields.get, envelope, Place(table, column, row_id, counter))
        except UnknownKeyId:
            raise _retired("a field", table, envelope_key_id(envelope)) from None

    def reseal_master_field(
        self, envelope: bytes, table: str, column: str, row_id: str, counter: int | None = None
    ) -> bytes | None:
        """The field sealed under the current master key, or None when it already is."""
        current = envelope_key_id(envelope) == self._current
        if current and envelope_version(envelope) == PADDED_VERSION:
            return None
        value = self.open_master_field(envelope, table, column, row_id, counter)
        return self.seal_master_field(value, table, column, row_id, counter)

    def seal_unpadded_master_field(
        self, value: bytes, table: str, column: str, row_id: str
    ) -> bytes:
        """A master field as it was sealed before migration 0013 (that migration's downgrade)."""
        aad = associated_data(table, column, row_id)
        return seal_envelope(self._fields[self._current], self._current, value, aad)

    # --- Migration 0009 only: fields once sealed under keys derived from the index key ------

    def open_legacy_field(self, envelope: bytes, table: str, column: str, row_id: str) -> bytes:
        """Decrypt an alert line or TOTP seed sealed the old way (HKDF from the index key)."""
        return open_envelope(self._legacy_key, envelope, associated_data(table, column, row_id))

    def seal_legacy_field(
        self, key_id: str, value: bytes, table: str, column: str, row_id: str
    ) -> bytes:
        """Seal a field the old way again (migration 0009's downgrade)."""
        key = self._legacy_key(key_id)
        if key is None:
            raise UnknownKeyId(f"key {key_id!r} is not an index-derived field key")
        return seal_envelope(key, key_id, value, associated_data(table, column, row_id))

    def _legacy_key(self, key_id: str) -> bytes | None:
        purposes = {LEGACY_PARTNER_KEY_ID: "partner-fields", LEGACY_STAFF_KEY_ID: "staff-fields"}
        purpose = purposes.get(key_id)
        return derive_key(self._index_key, purpose) if purpose else None


def _wrap_aad(table: str, row_id: str) -> bytes:
    return associated_data(table, "data_key", row_id)


def _retired(what: str, table: str, key_id: str) -> UnknownKeyId:
    return UnknownKeyId(
        f"{what} in {table} is under master key {key_id!r}, which REFUGE_MASTER_KEYS does not hold"
    )
