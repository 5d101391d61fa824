"""Secrets people type: check-in PINs and portal passwords (hashed), and TOTP codes.

PINs and passwords are argon2id over an HMAC with a pepper, a key kept outside the database;
the vault supplies the pepper. The decoy hashes that make an unknown PIN or account cost the
same work are made on first need, so importing stays cheap.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

#: argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): PINs are checked on every
#: check-in, so the cost is paid per message as well as by anyone guessing.
PIN_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

#: argon2id for portal passwords (RFC 9106's second recommendation: 64 MiB, 3 passes); a
#: caseworker logs in a few times a day, so the cost falls on guessing, not on people.
PASSWORD_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1)


@functools.cache
def _decoy_pin_hash() -> str:
    # Verified against when a person has no such PIN, so that both cases take the same time.
    return PIN_HASHER.hash(secrets.token_bytes(16))


@functools.cache
def _decoy_password_hash() -> str:
    # Verified against for unknown accounts.
    return PASSWORD_HASHER.hash(secrets.token_bytes(16))


def _peppered(pepper: bytes, secret: str) -> bytes:
    # A PIN has a few thousand values: without the pepper (a key outside the database)
    # a stolen hash would fall to a search however slow each guess is.
    return hmac.new(pepper, secret.encode("utf-8"), hashlib.sha256).digest()


def _verify(hasher: PasswordHasher, hashed: str, peppered: bytes) -> bool:
    try:
        return hasher.verify(hashed, peppered)
    except (VerificationError, InvalidHashError):
        return False


def hash_pin(pepper: bytes, pin: str) -> str:
    """A slow, salted, peppered hash of a check-in PIN."""
    return PIN_HASHER.hash(_peppered(pepper, pin))


def verify_pin(pepper: bytes, hashed: str | None, pin: str) -> bool:
    """Whether a PIN matches a hash; the same slow work is done when there is no hash."""
    matched = _verify(PIN_HASHER, hashed or _decoy_pin_hash(), _peppered(pepper, pin))
    return matched and bool(hashed)


def hash_password(pepper: bytes, password: str) -> str:
    """A slow, salted, peppered hash of a portal password."""
    return PASSWORD_HASHER.hash(_peppered(pepper, password))


def verify_password(pepper: bytes, hashed: str | None, password: str) -> bool:
    """Whether a password matches; the same slow work is done for an unknown account."""
    matched = _verify(
        PASSWORD_HASHER, hashed or _decoy_password_hash(), _peppered(pepper, password)
    )
    return matched and bool(hashed)


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
