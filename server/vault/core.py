"""The Vault: one instance's keys, and every operation that needs them.

Two roots, two lifetimes. The master keyring rotates: it wraps each row's data key and seals
the fields that belong to no person (an NGO's alert line, a portal account's TOTP seed). The
index keyring roots what must be computed again from a value to find a row: blind indexes of
numbers, keyed digests, and the PIN and password peppers. It is versioned too: each version
derives its own secret per purpose; new rows use the first (current) version, and look-ups
try every version in the ring, so `refuge keys rotate-index` can move rows to a new version
while the service keeps finding people. Once nothing needs an old version, it is retired, and
a backup made under it can no longer be matched to any number with the keys that remain.
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
from server.vault.keys import FIRST_INDEX_KEY_ID, Keyring, derive_key, new_data_key

#: Key ids of fields sealed under keys derived from the index key before migration 0009.
LEGACY_PARTNER_KEY_ID = "pk1"
LEGACY_STAFF_KEY_ID = "sk1"

#: Between an index key version and a PIN or password hash made under it (i1's have none).
HASH_VERSION_SEPARATOR = "$"


class Vault:
    """The keys of one Refuge instance and every operation that uses them."""

    def __init__(self, master_keys: Keyring, index_keys: Keyring | bytes) -> None:
        self._current = master_keys.current_id
        self._wrapping = {
            kid: derive_key(key, "data-key-wrapping") for kid, key in master_keys.keys
        }
        self._fields = {kid: derive_key(key, "master-fields") for kid, key in master_keys.keys}
        if isinstance(index_keys, bytes):  # one key, from before index keys had versions
            index_keys = Keyring(((FIRST_INDEX_KEY_ID, index_keys),))
        self._index_current = index_keys.current_id
        # One secret per purpose and per version: nothing derived for one purpose serves another.
        self._index = {kid: derive_key(key, "phone-blind-index") for kid, key in index_keys.keys}
        self._digest = {kid: derive_key(key, "keyed-digest") for kid, key in index_keys.keys}
        self._pepper = {kid: derive_key(key, "pin-pepper") for kid, key in index_keys.keys}
        self._password_pepper = {
            kid: derive_key(key, "password-pepper") for kid, key in index_keys.keys
        }
        self._first_index_key = index_keys.get(FIRST_INDEX_KEY_ID)

    def __repr__(self) -> str:
        return (
            f"Vault(current={self._current!r}, keys={tuple(self._wrapping)!r}, "
            f"index_keys={tuple(self._index)!r})"
        )

    @property
    def current_key_id(self) -> str:
        """The master key that wraps new data keys and seals new master fields."""
        return self._current

    # --- What the index keyring roots: versioned, rotated by `refuge keys rotate-index` -----

    @property
    def index_key_id(self) -> str:
        """The index key version every new blind index, digest and hash is made under."""
        return self._index_current

    def index_key_ids(self) -> tuple[str, ...]:
        """Every index key version in the ring, current first."""
        return tuple(self._index)

    def blind_index(self, e164: str) -> bytes:
        """HMAC-SHA256 of an E.164 number under the current version: what a new row stores."""
        return self.blind_index_under(self._index_current, e164)

    def blind_indexes(self, e164: str) -> tuple[bytes, ...]:
        """The number's blind index under every version, current first: what a look-up
        matches, so a row not yet moved by a rotation is still found."""
        return tuple(self.blind_index_under(kid, e164) for kid in self._index)

    def blind_index_under(self, key_id: str, e164: str) -> bytes:
        """The number's blind index under one version of the index key."""
        key = self._index.get(key_id)
        if key is None:
            raise UnknownKeyId(f"index key {key_id!r} is not in REFUGE_INDEX_KEY")
        return hmac.new(key, e164.encode("ascii"), hashlib.sha256).digest()

    def keyed_digest(self, purpose: str, value: str) -> bytes:
        """A keyed digest of an identifier for one purpose, under the current version."""
        return self._keyed_digest(self._index_current, purpose, value)

    def keyed_digests(self, purpose: str, value: str) -> tuple[bytes, ...]:
        """The identifier's keyed digest under every version, current first (look-ups)."""
        return tuple(self._keyed_digest(kid, purpose, value) for kid in self._digest)

    def _keyed_digest(self, key_id: str, purpose: str, value: str) -> bytes:
        message = purpose.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._digest[key_id], message, hashlib.sha256).digest()

    def hash_pin(self, pin: str) -> str:
        """A slow, salted, peppered hash of a check-in PIN (argon2id over a keyed HMAC)."""
        hashed = credentials.hash_pin(self._pepper[self._index_current], pin)
        return _versioned(self._index_current, hashed)

    def verify_pin(self, hashed: str | None, pin: str) -> bool:
        """Whether a PIN matches a hash; the same slow work is done when there is no hash,
        or when the version it was made under has been retired."""
        key_id, bare = hash_index_key_id(hashed) if hashed else (self._index_current, None)
        pepper = self._pepper.get(key_id)
        matched = credentials.verify_pin(pepper or self._pepper[self._index_current], bare, pin)
        return matched and pepper is not None

    def made_under_older_key(self, hashed: str) -> bool:
        """Whether a PIN or password hash was made under an index key version other than the
        current one: redone on the next right answer, it stops holding that version back."""
        return hash_index_key_id(hashed)[0] != self._index_current

    def hash_password(self, password: str) -> str:
        """A slow, salted, peppered hash of a portal password (argon2id over a keyed HMAC)."""
        hashed = credentials.hash_password(self._password_pepper[self._index_current], password)
        return _versioned(self._index_current, hashed)

    def verify_password(self, hashed: str | None, password: str) -> bool:
        """Whether a password matches; the same slow work is done for an unknown account."""
        key_id, bare = hash_index_key_id(hashed) if hashed else (self._index_current, None)
        pepper = self._password_pepper.get(key_id)
        current = self._password_pepper[self._index_current]
        matched = credentials.verify_password(pepper or current, bare, password)
        return matched and pepper is not None

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
        if purpose is None or self._first_index_key is None:
            return None
        return derive_key(self._first_index_key, purpose)


def _wrap_aad(table: str, row_id: str) -> bytes:
    return associated_data(table, "data_key", row_id)


def _retired(what: str, table: str, key_id: str) -> UnknownKeyId:
    return UnknownKeyId(
        f"{what} in {table} is under master key {key_id!r}, which REFUGE_MASTER_KEYS does not hold"
    )


def hash_index_key_id(hashed: str) -> tuple[str, str]:
    """The index key version a PIN or password hash was made under, and the bare hash.

    An argon2 hash starts with "$"; one made under a later version than i1 starts with the
    version's id and a "$" (i1's hashes, all made before versions, carry no prefix).
    """
    key_id, separator, rest = hashed.partition(HASH_VERSION_SEPARATOR)
    if not separator or not key_id:
        return FIRST_INDEX_KEY_ID, hashed
    return key_id, HASH_VERSION_SEPARATOR + rest


def _versioned(key_id: str, hashed: str) -> str:
    return hashed if key_id == FIRST_INDEX_KEY_ID else key_id + hashed
