"""Envelopes: AES-256-GCM with a versioned header naming its key, bound to a place (the AAD).

An envelope is ``version | algorithm | key id length | key id | nonce | ciphertext and tag``.
Version 1 seals the plaintext as it is; a field's associated data names its table, column and
row. Version 2 (every field written since migration 0013) seals the plaintext padded to a
bucket (a 4-byte length, then zeros up to a power of two, at least 32 bytes), so a ciphertext's
length no longer tells a mobile number from an office line or one country's from another's;
its associated data also names the row's seal counter and the columns bound to the field (a
contact's consent, a message's recipient), so a ciphertext moved to another row, an older one
rolled back into its row, or a bound column edited by hand, fails to open. Errors say what went
wrong, never with a wrong plaintext.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: Unpadded: wrapped data keys, and fields written before migration 0013.
ENVELOPE_VERSION = 1
#: Padded to a bucket, with the row's counter and bound columns in the associated data.
PADDED_VERSION = 2
AES_256_GCM = 1
#: The smallest padded plaintext: every phone number (with its length prefix) fits in one.
PAD_MINIMUM = 32
LENGTH_PREFIX_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
#: The key id of field envelopes: the data key of the row's owner.
DATA_KEY_ID = "dk1"


class VaultError(Exception):
    """A ciphertext could not be opened; never answered with a wrong plaintext."""


class EnvelopeMalformed(VaultError):
    """The bytes are not an envelope Refuge wrote: truncated, or unknown version or algorithm."""


class UnknownKeyId(VaultError):
    """The envelope names a key that the keyring does not hold (retired, or never known)."""


class DecryptionFailed(VaultError):
    """Authentication failed: wrong key, tampered bytes, or a ciphertext moved to another place."""


@dataclass(frozen=True, repr=False)
class Envelope:
    """version | algorithm | key id length | key id | nonce | ciphertext and tag."""

    version: int
    algorithm: int
    key_id: str
    nonce: bytes
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        """The envelope as stored in a column."""
        kid = self.key_id.encode("ascii")
        header = bytes((self.version, self.algorithm, len(kid))) + kid
        return header + self.nonce + self.ciphertext

    @classmethod
    def parse(cls, data: bytes) -> Envelope:
        """Read an envelope, refusing anything truncated or of an unknown kind."""
        version = envelope_version(data)
        key_id, nonce, ciphertext = _split_envelope(data)
        return cls(version, AES_256_GCM, key_id, nonce, ciphertext)


@functools.lru_cache(maxsize=64)
def _envelope_header(key_id: str, version: int = ENVELOPE_VERSION) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((version, AES_256_GCM, len(kid))) + kid


def envelope_version(data: bytes) -> int:
    """The version byte of an envelope (refused when it is none Refuge writes)."""
    if not data:
        raise EnvelopeMalformed("envelope is truncated")
    if data[0] not in (ENVELOPE_VERSION, PADDED_VERSION):
        raise EnvelopeMalformed(f"unknown envelope version {data[0]}")
    return data[0]


def _split_envelope(data: bytes) -> tuple[str, bytes, bytes]:
    """(key id, nonce, ciphertext) of an envelope; the hot path of every decryption."""
    if len(data) < 3:
        raise EnvelopeMalformed("envelope is truncated")
    version, algorithm, kid_length = data[0], data[1], data[2]
    if version not in (ENVELOPE_VERSION, PADDED_VERSION):
        raise EnvelopeMalformed(f"unknown envelope version {version}")
    if algorithm != AES_256_GCM:
        raise EnvelopeMalformed(f"unknown envelope algorithm {algorithm}")
    body = 3 + kid_length
    if len(data) < body + NONCE_BYTES + TAG_BYTES:
        raise EnvelopeMalformed("envelope is truncated")
    try:
        key_id = data[3:body].decode("ascii")
    except UnicodeDecodeError:
        raise EnvelopeMalformed("envelope key id is not ASCII") from None
    return key_id, data[body : body + NONCE_BYTES], data[body + NONCE_BYTES :]


def envelope_key_id(data: bytes) -> str:
    """The id of the key an envelope was sealed under."""
    return _split_envelope(data)[0]


def associated_data(table: str, column: str, row_id: str) -> bytes:
    """Binds a version 1 ciphertext to its place, so it cannot be moved to another row or column."""
    return f"refuge/v1|{table}|{column}|{row_id}".encode()


@dataclass(frozen=True)
class Place:
    """Where a field's envelope belongs: its table, column and row, the row's seal counter
    (None for a row that keeps none) and the values of the columns bound to the field."""

    table: str
    column: str
    row_id: str
    counter: int | None = None
    bound: tuple[tuple[str, str], ...] = ()

    def associated_data(self, version: int) -> bytes:
        """What a version's envelope is bound to (version 1 knew only table, column and row)."""
        if version == ENVELOPE_VERSION:
            return associated_data(self.table, self.column, self.row_id)
        counter = "" if self.counter is None else str(self.counter)
        bound = "".join(f"|{name}={value}" for name, value in self.bound)
        return f"refuge/v2|{self.table}|{self.column}|{self.row_id}|{counter}{bound}".encode()

    @property
    def accepts_unpadded(self) -> bool:
        """Whether a version 1 envelope may still open here: not in a row with a counter,
        where it would be an older ciphertext rolled back from before migration 0013."""
        return self.counter is None and not self.bound


def pad(plaintext: bytes) -> bytes:
    """The plaintext behind a 4-byte length, zero-padded to a power of two (at least 32)."""
    size = len(plaintext) + LENGTH_PREFIX_BYTES
    bucket = max(PAD_MINIMUM, 1 << (size - 1).bit_length())
    return len(plaintext).to_bytes(LENGTH_PREFIX_BYTES, "big") + plaintext.ljust(
        bucket - LENGTH_PREFIX_BYTES, b"\0"
    )


def unpad(padded: bytes) -> bytes:
    """The plaintext `pad` hid; refused when the length or the padding is not its own."""
    length = int.from_bytes(padded[:LENGTH_PREFIX_BYTES], "big")
    end = LENGTH_PREFIX_BYTES + length
    if len(padded) < LENGTH_PREFIX_BYTES or end > len(padded) or any(padded[end:]):
        raise EnvelopeMalformed("padding is not the one Refuge writes")
    return padded[LENGTH_PREFIX_BYTES:end]


def seal_envelope(
    key: bytes, key_id: str, plaintext: bytes, aad: bytes, nonce: bytes | None = None
) -> bytes:
    """AES-256-GCM encrypt into a version 1 envelope; the nonce is random unless a test fixes it."""
    nonce = nonce if nonce is not None else os.urandom(NONCE_BYTES)
    return _envelope_header(key_id) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_envelope(key_for: Callable[[str], bytes | None], data: bytes, aad: bytes) -> bytes:
    """Decrypt an envelope with the key its id names, or raise; never a wrong plaintext."""
    key_id, nonce, ciphertext = _split_envelope(data)
    key = key_for(key_id)
    if key is None:
        raise UnknownKeyId(f"key {key_id!r} is not in the keyring")
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptionFailed("ciphertext failed authentication") from None


def seal_at(key: bytes, key_id: str, plaintext: bytes, place: Place) -> bytes:
    """A field's padded (version 2) envelope, bound to its place."""
    nonce = os.urandom(NONCE_BYTES)
    aad = place.associated_data(PADDED_VERSION)
    sealed = AESGCM(key).encrypt(nonce, pad(plaintext), aad)
    return _envelope_header(key_id, PADDED_VERSION) + nonce + sealed


def open_at(key_for: Callable[[str], bytes | None], data: bytes, place: Place) -> bytes:
    """A field's plaintext, from a version 2 envelope (or a version 1 one where still allowed)."""
    version = envelope_version(data)
    if version == ENVELOPE_VERSION and not place.accepts_unpadded:
        raise DecryptionFailed(
            f"{place.table}.{place.column} holds an envelope older than migration 0013: "
            "a rolled-back ciphertext, or a database not yet upgraded (`refuge db upgrade`)"
        )
    opened = open_envelope(key_for, data, place.associated_data(version))
    return opened if version == ENVELOPE_VERSION else unpad(opened)


def wrapped_key_id(wrapped: bytes) -> str:
    """The id of the master key that wrapped a data key."""
    return envelope_key_id(wrapped)


def _place(
    table: str, column: str, row_id: str, counter: int | None, bound: tuple[tuple[str, str], ...]
) -> Place:
    return Place(table, column, row_id, counter, bound)


def seal_bytes(
    data_key: bytes,
    plaintext: bytes,
    table: str,
    column: str,
    row_id: str,
    *,
    counter: int | None = None,
    bound: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """Encrypt one field's bytes of one row under its owner's data key (padded, version 2)."""
    place = _place(table, column, row_id, counter, bound)
    return seal_at(data_key, DATA_KEY_ID, plaintext, place)


def open_bytes(
    data_key: bytes,
    envelope: bytes,
    table: str,
    column: str,
    row_id: str,
    *,
    counter: int | None = None,
    bound: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """Decrypt one field's bytes of one row, checking that it belongs to that row and column."""
    keys = {DATA_KEY_ID: data_key}
    return open_at(keys.get, envelope, _place(table, column, row_id, counter, bound))


def encrypt_field(data_key: bytes, plaintext: str, table: str, column: str, row_id: str) -> bytes:
    """Encrypt one text field of one row under its owner's data key."""
    return seal_bytes(data_key, plaintext.encode("utf-8"), table, column, row_id)


def decrypt_field(data_key: bytes, envelope: bytes, table: str, column: str, row_id: str) -> str:
    """Decrypt one text field of one row, checking that it belongs to that row and column."""
    return open_bytes(data_key, envelope, table, column, row_id).decode("utf-8")
