"""All of Refuge's cryptography: keys, envelopes, encrypted fields, blind indexes, sealed notes.

Nothing outside this module generates, derives or uses a key. Other modules hand it opaque
bytes that came from settings and get back opaque bytes or plaintext.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, overload

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

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


def new_webhook_token() -> str:
    """A random token for signing webhooks in development (Twilio issues the real one)."""
    return secrets.token_hex(16)


def new_key_settings(master_key_id: str = "k1") -> dict[str, str]:
    """A fresh set of REFUGE_* key settings, for production or a development instance."""
    return {
        "REFUGE_SECRET_KEY": _new_key(),
        "REFUGE_MASTER_KEYS": f"{master_key_id}:{_new_key()}",
        "REFUGE_INDEX_KEY": _new_key(),
    }


# --- Errors ---------------------------------------------------------------------------------


class VaultError(Exception):
    """A ciphertext could not be opened; never answered with a wrong plaintext."""


class EnvelopeMalformed(VaultError):
    """The bytes are not an envelope Refuge wrote: truncated, or unknown version or algorithm."""


class UnknownKeyId(VaultError):
    """The envelope names a key that the keyring does not hold (retired, or never known)."""


class DecryptionFailed(VaultError):
    """Authentication failed: wrong key, tampered bytes, or a ciphertext moved to another place."""


# --- Envelopes ------------------------------------------------------------------------------

ENVELOPE_VERSION = 1
AES_256_GCM = 1
NONCE_BYTES = 12
TAG_BYTES = 16
#: The key id of field envelopes: the data key of the row's owner.
DATA_KEY_ID = "dk1"
#: The key id of organisations' fields, under a key derived from the index key.
PARTNER_KEY_ID = "pk1"
#: The key id of portal accounts' secrets (TOTP), under a key derived from the index key.
STAFF_KEY_ID = "sk1"


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


# --- The vault ------------------------------------------------------------------------------


class Vault:
    """The keys of one Refuge instance and every operation that uses them."""

    def __init__(self, master_keys: Keyring, index_key: bytes) -> None:
        self._current = master_keys.current_id
        self._wrapping = {
            kid: derive_key(key, "data-key-wrapping") for kid, key in master_keys.keys
        }
        self._index = derive_key(index_key, "phone-blind-index")
        self._digest = derive_key(index_key, "keyed-digest")
        self._pepper = derive_key(index_key, "pin-pepper")
        self._partner = derive_key(index_key, "partner-fields")
        self._password_pepper = derive_key(index_key, "password-pepper")
        self._staff = derive_key(index_key, "staff-fields")

    def __repr__(self) -> str:
        return f"Vault(current={self._current!r}, keys={tuple(self._wrapping)!r})"

    @property
    def current_key_id(self) -> str:
        """The master key that wraps new data keys."""
        return self._current

    def blind_index(self, e164: str) -> bytes:
        """HMAC-SHA256 of an E.164 number: finds a person without storing their number."""
        return hmac.new(self._index, e164.encode("ascii"), hashlib.sha256).digest()

    def keyed_digest(self, purpose: str, value: str) -> bytes:
        """A keyed digest of an identifier (a provider's message id, say) for one purpose."""
        message = purpose.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._digest, message, hashlib.sha256).digest()

    def hash_pin(self, pin: str) -> str:
        """A slow, salted, peppered hash of a check-in PIN (argon2id over a keyed HMAC)."""
        return PIN_HASHER.hash(self._peppered(pin))

    def verify_pin(self, hashed: str | None, pin: str) -> bool:
        """Whether a PIN matches a hash; the same slow work is done when there is no hash."""
        try:
            return PIN_HASHER.verify(hashed or _DECOY_PIN_HASH, self._peppered(pin)) and bool(
                hashed
            )
        except (VerificationError, InvalidHashError):
            return False

    def seal_partner_field(self, value: str, table: str, column: str, row_id: str) -> bytes:
        """Encrypt an organisation's field (an NGO's alert line): it belongs to no person."""
        aad = associated_data(table, column, row_id)
        return seal_envelope(self._partner, PARTNER_KEY_ID, value.encode("utf-8"), aad)

    def open_partner_field(self, envelope: bytes, table: str, column: str, row_id: str) -> str:
        """Decrypt an organisation's field sealed by `seal_partner_field`."""
        keys = {PARTNER_KEY_ID: self._partner}
        return open_envelope(keys.get, envelope, associated_data(table, column, row_id)).decode()

    def hash_password(self, password: str) -> str:
        """A slow, salted, peppered hash of a portal password (argon2id over a keyed HMAC)."""
        return PASSWORD_HASHER.hash(self._peppered_password(password))

    def verify_password(self, hashed: str | None, password: str) -> bool:
        """Whether a password matches; the same slow work is done for an unknown account."""
        try:
            matched = PASSWORD_HASHER.verify(
                hashed or _decoy_password_hash(), self._peppered_password(password)
            )
        except (VerificationError, InvalidHashError):
            return False
        return matched and bool(hashed)

    def seal_staff_field(self, value: bytes, table: str, column: str, row_id: str) -> bytes:
        """Encrypt a portal account's secret (its TOTP seed), bound to its row and column."""
        return seal_envelope(
            self._staff, STAFF_KEY_ID, value, associated_data(table, column, row_id)
        )

    def open_staff_field(self, envelope: bytes, table: str, column: str, row_id: str) -> bytes:
        """Decrypt a portal account's secret sealed by `seal_staff_field`."""
        keys = {STAFF_KEY_ID: self._staff}
        return open_envelope(keys.get, envelope, associated_data(table, column, row_id))

    def _peppered_password(self, password: str) -> bytes:
        return hmac.new(self._password_pepper, password.encode("utf-8"), hashlib.sha256).digest()

    def _peppered(self, pin: str) -> bytes:
        # A PIN has a few thousand values: without the pepper (a key outside the database)
        # a stolen hash would fall to a search however slow each guess is.
        return hmac.new(self._pepper, pin.encode("utf-8"), hashlib.sha256).digest()

    def new_data_key(self, table: str, row_id: str) -> tuple[bytes, bytes]:
        """A fresh random data key and its envelope wrapped under the current master key."""
        data_key = secrets.token_bytes(KEY_BYTES)
        return data_key, self._wrap(data_key, table, row_id)

    def unwrap_data_key(self, wrapped: bytes, table: str, row_id: str) -> bytes:
        """The data key of one row; fails closed when its master key has been retired."""
        try:
            return open_envelope(self._wrapping.get, wrapped, _wrap_aad(table, row_id))
        except UnknownKeyId:
            kid = Envelope.parse(wrapped).key_id
            raise UnknownKeyId(
                f"a data key in {table} is wrapped by master key {kid!r}, "
                "which REFUGE_MASTER_KEYS does not hold"
            ) from None

    def rewrap_data_key(self, wrapped: bytes, table: str, row_id: str) -> bytes | None:
        """The data key wrapped under the current master key, or None when it already is."""
        if Envelope.parse(wrapped).key_id == self._current:
            return None
        return self._wrap(self.unwrap_data_key(wrapped, table, row_id), table, row_id)

    def _wrap(self, data_key: bytes, table: str, row_id: str) -> bytes:
        wrapping = self._wrapping[self._current]
        return seal_envelope(wrapping, self._current, data_key, _wrap_aad(table, row_id))


#: argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): PINs are checked on every
#: check-in, so the cost is paid per message as well as by anyone guessing.
PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
#: Verified against when a person has no such PIN, so that both cases take the same time.
_DECOY_PIN_HASH = PIN_HASHER.hash(secrets.token_bytes(16))


#: argon2id for portal passwords (RFC 9106's second recommendation: 64 MiB, 3 passes); a
#: caseworker logs in a few times a day, so the cost falls on guessing, not on people.
PASSWORD_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1)


@functools.cache
def _decoy_password_hash() -> str:
    # Verified against for unknown accounts; made on first use so importing stays cheap.
    return PASSWORD_HASHER.hash(secrets.token_bytes(16))


def _wrap_aad(table: str, row_id: str) -> bytes:
    return associated_data(table, "data_key", row_id)


def wrapped_key_id(wrapped: bytes) -> str:
    """The id of the master key that wrapped a data key."""
    return Envelope.parse(wrapped).key_id


def encrypt_field(data_key: bytes, plaintext: str, table: str, column: str, row_id: str) -> bytes:
    """Encrypt one field of one row under its owner's data key."""
    aad = associated_data(table, column, row_id)
    return seal_envelope(data_key, DATA_KEY_ID, plaintext.encode("utf-8"), aad)


def decrypt_field(data_key: bytes, envelope: bytes, table: str, column: str, row_id: str) -> str:
    """Decrypt one field of one row, checking that it belongs to that row and column."""
    keys = {DATA_KEY_ID: data_key}
    plaintext = open_envelope(keys.get, envelope, associated_data(table, column, row_id))
    return plaintext.decode("utf-8")


# --- Encrypted model fields -----------------------------------------------------------------


class DataKeyOwner(Protocol):
    """A model row whose sensitive fields are encrypted under a data key it can produce."""

    __tablename__: str

    @property
    def envelope_row_id(self) -> str: ...

    def data_key(self) -> bytes: ...


class EncryptedField:
    """Plaintext on the model, an envelope in the column: the one way to encrypt a field.

    Declared as ``phone = EncryptedField("phone_ct")`` beside the mapped column that stores
    the envelope. The associated data names the table, this field's name and the row id.
    """

    def __init__(self, column_attribute: str) -> None:
        self.column_attribute = column_attribute
        self.name = column_attribute

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> EncryptedField: ...
    @overload
    def __get__(self, obj: DataKeyOwner, objtype: type | None = None) -> str | None: ...
    def __get__(
        self, obj: DataKeyOwner | None, objtype: type | None = None
    ) -> str | EncryptedField | None:
        if obj is None:
            return self
        envelope: bytes | None = getattr(obj, self.column_attribute)
        if envelope is None:
            return None
        return decrypt_field(
            obj.data_key(), envelope, obj.__tablename__, self.name, obj.envelope_row_id
        )

    def __set__(self, obj: DataKeyOwner, value: str | None) -> None:
        envelope = None
        if value is not None:
            envelope = encrypt_field(
                obj.data_key(), value, obj.__tablename__, self.name, obj.envelope_row_id
            )
        setattr(obj, self.column_attribute, envelope)


# --- Sealed notes (HPKE, RFC 9180) ----------------------------------------------------------

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


# --- Portal logins: TOTP (RFC 6238) ---------------------------------------------------------

TOTP_SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
TOTP_DIGITS = 6
TOTP_STEP_SECONDS = 30
#: Steps either side of now a code is accepted for: a phone's clock a little off still works.
TOTP_DRIFT_STEPS = 1
TOTP_ISSUER = "Refuge"


def new_totp_secret() -> bytes:
    """A random TOTP seed for a new portal account."""
    return secrets.token_bytes(TOTP_SECRET_BYTES)


def _totp(secret: bytes) -> TOTP:
    # HMAC-SHA1 is what RFC 6238 and every authenticator app use; HMAC keeps it sound.
    return TOTP(secret, TOTP_DIGITS, hashes.SHA1(), TOTP_STEP_SECONDS)  # noqa: S303


def totp_provisioning_uri(secret: bytes, account: str) -> str:
    """The otpauth:// URI an authenticator app reads (as a QR code or typed in)."""
    return _totp(secret).get_provisioning_uri(account, TOTP_ISSUER)


def totp_secret_text(secret: bytes) -> str:
    """The seed as the base32 text authenticator apps accept when typed by hand."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def totp_code(secret: bytes, at: float) -> str:
    """The code for a moment (tests, and anyone checking a clock)."""
    return _totp(secret).generate(at).decode("ascii")


def totp_step(at: float) -> int:
    """The time step a moment falls in."""
    return int(at // TOTP_STEP_SECONDS)


def verify_totp(secret: bytes, code: str, at: float, after_step: int | None) -> int | None:
    """The step a code is valid for near `at`, later than `after_step`; else None.

    Refusing a step already used stops a code seen over someone's shoulder from being replayed.
    """
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret)
    matched = None
    for drift in range(-TOTP_DRIFT_STEPS, TOTP_DRIFT_STEPS + 1):
        step = totp_step(at) + drift
        try:
            totp.verify(code.encode("ascii"), step * TOTP_STEP_SECONDS)
        except InvalidToken:
            continue
        matched = step
    if matched is None or (after_step is not None and matched <= after_step):
        return None
    return matched


# --- The audit chain -------------------------------------------------------------------------

#: The hash an audit chain starts from.
CHAIN_GENESIS = "0" * 64


def chain_hash(previous: str, content: bytes) -> str:
    """The hash of one audit row: SHA-256 over the previous row's hash and its own content."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + content).hexdigest()
