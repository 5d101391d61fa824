"""Envelopes: AES-256-GCM with a versioned header naming its key, bound to a place (the AAD).

An envelope is ``version | algorithm | key id length | key id | nonce | ciphertext and tag``;
its associated data names the table, column and row it belongs to, so a ciphertext moved
elsewhere fails to open. Errors say what went wrong, never with a wrong plaintext.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENVELOPE_VERSION = 1
AES_256_GCM = 1
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
        key_id, nonce, ciphertext = _split_envelope(data)
        return cls(ENVELOPE_VERSION, AES_256_GCM, key_id, nonce, ciphertext)


@functools.lru_cache(maxsize=64)
def _envelope_header(key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((ENVELOPE_VERSION, AES_256_GCM, len(kid))) + kid


def _split_envelope(data: bytes) -> tuple[str, bytes, bytes]:
    """(key id, nonce, ciphertext) of an envelope; the hot path of every decryption."""
    if len(data) < 3:
        raise EnvelopeMalformed("envelope is truncated")
    version, algorithm, kid_length = data[0], data[1], data[2]
    if version != ENVELOPE_VERSION:
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
    """Binds a ciphertext to its place, so it cannot be moved to another row or column."""
    return f"refuge/v1|{table}|{column}|{row_id}".encode()


def seal_envelope(
    key: bytes, key_id: str, plaintext: bytes, aad: bytes, nonce: bytes | None = None
) -> bytes:
    """AES-256-GCM encrypt into an envelope; the nonce is random unless a test fixes it."""
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


def wrapped_key_id(wrapped: bytes) -> str:
    """The id of the master key that wrapped a data key."""
    return envelope_key_id(wrapped)


def seal_bytes(data_key: bytes, plaintext: bytes, table: str, column: str, row_id: str) -> bytes:
    """Encrypt one field's bytes of one row under its owner's data key."""
    aad = associated_data(table, column, row_id)
    return seal_envelope(data_key, DATA_KEY_ID, plaintext, aad)


def open_bytes(data_key: bytes, envelope: bytes, table: str, column: str, row_id: str) -> bytes:
    """Decrypt one field's bytes of one row, checking that it belongs to that row and column."""
    keys = {DATA_KEY_ID: data_key}
    return open_envelope(keys.get, envelope, associated_data(table, column, row_id))


def encrypt_field(data_key: bytes, plaintext: str, table: str, column: str, row_id: str) -> bytes:
    """Encrypt one text field of one row under its owner's data key."""
    return seal_bytes(data_key, plaintext.encode("utf-8"), table, column, row_id)


def decrypt_field(data_key: bytes, envelope: bytes, table: str, column: str, row_id: str) -> str:
    """Decrypt one text field of one row, checking that it belongs to that row and column."""
    return open_bytes(data_key, envelope, table, column, row_id).decode("utf-8")
