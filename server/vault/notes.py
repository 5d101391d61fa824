"""Sealed notes (HPKE, RFC 9180): written to an NGO's public key, opened only offline.

The server holds the public half only, so it can seal a note but never read one back.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric import x25519

from server.vault.envelopes import TAG_BYTES, DecryptionFailed, EnvelopeMalformed, VaultError

NOTE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
NOTE_ENC_BYTES = 32


def note_info(context: str) -> bytes:
    """The HPKE info that binds a sealed note to its context (for example its note id)."""
    return b"refuge/v1/sealed-note|" + context.encode("utf-8")


def seal(org_public_key: bytes, plaintext: str, context: str) -> bytes:
    """Encrypt to an NGO's X25519 public key; only its offline private key opens it."""
    try:
        public = x25519.X25519PublicKey.from_public_bytes(org_public_key)
        return NOTE_SUITE.encrypt(plaintext.encode("utf-8"), public, info=note_info(context))
    except ValueError:
        # Wrong length, or a low-order point that would give an all-zero shared secret.
        raise VaultError("the organisation's note key is not a usable X25519 public key") from None


def open_sealed(private_key: x25519.X25519PrivateKey, sealed: bytes, context: str) -> str:
    """Decrypt a sealed note with the NGO's private key (offline, `refuge notes open`)."""
    if len(sealed) < NOTE_ENC_BYTES + TAG_BYTES:
        raise EnvelopeMalformed("sealed note is truncated")
    try:
        return NOTE_SUITE.decrypt(sealed, private_key, info=note_info(context)).decode("utf-8")
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise DecryptionFailed("sealed note failed authentication") from None


def new_note_keypair() -> tuple[bytes, bytes]:
    """A new NGO key pair: the private key as PEM (for the NGO's file) and the raw public key."""
    private = x25519.X25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return pem, public


def load_note_private_key(pem: bytes) -> x25519.X25519PrivateKey:
    """Read an NGO's private key file, refusing anything else with a clear error."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise VaultError("the key file is not an unencrypted PEM private key") from None
    if not isinstance(key, x25519.X25519PrivateKey):
        raise VaultError("the key file does not hold an X25519 key")
    return key


def key_fingerprint(public_key: bytes) -> str:
    """A short, stable name for a public key: the first 16 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public_key).hexdigest()[:32]
