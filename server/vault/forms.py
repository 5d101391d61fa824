"""Form tokens that need no cookie: a timestamp and a random nonce signed with HMAC-SHA256 under
a key derived from the secret key for one form, so a page can prove a form it receives was
served by this instance, for this form, lately.

A token is `<seconds>.<nonce>.<mac>` (url-safe base64 nonce and mac). It is not tied to a
browser (nothing on the browser holds state), so a form using it also refuses requests its
browser marks as coming from another site.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from server.vault.keys import derive_key

NONCE_BYTES = 16
#: Seconds a token may come from the future (clocks of several processes differ slightly).
CLOCK_SKEW = 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret_key: bytes, form: str, issued: int, nonce: str) -> bytes:
    key = derive_key(secret_key, "form-token/" + form)
    return hmac.new(key, f"{issued}.{nonce}".encode("ascii"), hashlib.sha256).digest()


def form_token(secret_key: bytes, form: str, now: float) -> str:
    """A fresh token for one form (named by `form`), issued at `now` (seconds since the epoch)."""
    issued = int(now)
    nonce = _b64(secrets.token_bytes(NONCE_BYTES))
    return f"{issued}.{nonce}.{_b64(_mac(secret_key, form, issued, nonce))}"


def form_token_valid(secret_key: bytes, form: str, token: str, now: float, max_age: int) -> bool:
    """True when `token` was issued by `form_token` for this form no more than `max_age` ago."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit() or len(parts[0]) > 12:
        return False
    issued, nonce, mac = int(parts[0]), parts[1], parts[2]
    if not nonce.isascii() or not mac.isascii():
        return False
    try:
        given = _unb64(mac)
    except (binascii.Error, ValueError):
        return False
    if not hmac.compare_digest(given, _mac(secret_key, form, issued, nonce)):
        return False
    return now - max_age <= issued <= now + CLOCK_SKEW
