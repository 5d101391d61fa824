"""Keys and keyrings: parse them from settings, derive one key per purpose, generate new ones.

Nothing here encrypts anything; it turns settings into key material and makes fresh settings.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: Length in bytes of every symmetric root key Refuge accepts.
KEY_BYTES = 32

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")


class KeyFormatError(ValueError):
    """A key given in settings is malformed, too short or ambiguous."""


@dataclass(frozen=True, repr=False)
class Keyring:
    """Master keys by id; the first one is current and wraps new data keys."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_id(self) -> str:
        """The id of the key that wraps new data keys."""
        return self.keys[0][0]

    def get(self, key_id: str) -> bytes | None:
        """The key with this id, or None when it has been retired."""
        for kid, key in self.keys:
            if kid == key_id:
                return key
        return None

    def ids(self) -> tuple[str, ...]:
        """Every key id in the ring, current first."""
        return tuple(kid for kid, _ in self.keys)

    def __repr__(self) -> str:
        # Never let a key reach a log line or a traceback through repr().
        return f"Keyring(ids={self.ids()!r})"


def decode_key(text: str) -> bytes:
    """Decode one base64 (standard or URL-safe) key of at least KEY_BYTES bytes."""
    cleaned = text.strip()
    if not cleaned:
        raise KeyFormatError("is empty")
    try:
        standard = cleaned.replace("-", "+").replace("_", "/").rstrip("=")
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("is not valid base64") from None
    if len(raw) < KEY_BYTES:
        raise KeyFormatError(f"is {len(raw)} bytes long; at least {KEY_BYTES} are needed")
    return raw


def parse_keyring(text: str) -> Keyring:
    """Parse ``k2:<base64>,k1:<base64>`` into a Keyring, newest first."""
    entries: list[tuple[str, bytes]] = []
    for position, item in enumerate(text.split(","), start=1):
        kid, sep, encoded = item.strip().partition(":")
        if not sep or not _KEY_ID.fullmatch(kid):
            raise KeyFormatError(
                f"entry {position} must look like <id>:<base64 key>, "
                "with an id of letters, digits, '-' or '_'"
            )
        try:
            key = decode_key(encoded)
        except KeyFormatError as exc:
            raise KeyFormatError(f"key {kid!r} {exc}") from None
        if len(key) != KEY_BYTES:
            raise KeyFormatError(f"key {kid!r} must be exactly {KEY_BYTES} bytes")
        if any(existing == kid for existing, _ in entries):
            raise KeyFormatError(f"key id {kid!r} appears twice")
        entries.append((kid, key))
    return Keyring(tuple(entries))


#: The id of an index key written without one: every key setting and file made before index
#: keys had versions holds this version.
FIRST_INDEX_KEY_ID = "i1"


def parse_index_keyring(text: str) -> Keyring:
    """Parse ``i2:<base64>,i1:<base64>`` (newest first); a bare key is version i1.

    The first version computes every new blind index, keyed digest and peppered hash; the
    others are still matched while `refuge keys rotate-index` moves rows off them.
    """
    if ":" not in text:  # base64 never holds a colon: a key from before versions
        return Keyring(((FIRST_INDEX_KEY_ID, decode_key(text)),))
    # The old bare key may follow a new version as it was (`i2:<new>,<old>`): it is i1.
    entries = [e if ":" in e else f"{FIRST_INDEX_KEY_ID}:{e.strip()}" for e in text.split(",")]
    ring = parse_keyring(",".join(entries))
    if len({key for _, key in ring.keys}) != len(ring.keys):
        raise KeyFormatError("holds the same key under two ids; a new version needs a new key")
    return ring


def derive_key(root: bytes, purpose: str, length: int = KEY_BYTES) -> bytes:
    """Derive an independent key for one purpose from a root secret (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=length,
        salt=None,
        info=b"refuge/v1/" + purpose.encode("ascii"),
    ).derive(root)


def _new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii").rstrip("=")


def new_data_key() -> bytes:
    """A fresh random data key for one row (wrapped by the vault before it is stored)."""
    return secrets.token_bytes(KEY_BYTES)


def new_webhook_token() -> str:
    """A random token for signing webhooks in development (Twilio issues the real one)."""
    return secrets.token_hex(16)


def new_key_settings(master_key_id: str = "k1", index_key_id: str | None = None) -> dict[str, str]:
    """A fresh set of REFUGE_* key settings, for production or a development instance.

    The index key is written bare (version i1) unless an id is asked for.
    """
    return {
        "REFUGE_SECRET_KEY": _new_key(),
        "REFUGE_MASTER_KEYS": f"{master_key_id}:{_new_key()}",
        "REFUGE_INDEX_KEY": new_index_key_entry(index_key_id) if index_key_id else _new_key(),
    }


def new_index_key_entry(key_id: str) -> str:
    """A fresh index key version as it goes at the front of REFUGE_INDEX_KEY: ``<id>:<key>``."""
    if not _KEY_ID.fullmatch(key_id):
        raise KeyFormatError(f"id {key_id!r} must be letters, digits, '-' or '_' (at most 16)")
    return f"{key_id}:{_new_key()}"


def next_index_key_id(ring: Keyring) -> str:
    """The id after the highest ``i<n>`` in the ring: i2 after a ring holding only i1."""
    numbers = [int(kid[1:]) for kid in ring.ids() if kid[:1] == "i" and kid[1:].isdecimal()]
    return f"i{max(numbers, default=0) + 1}"
