"""Outbox causes that name nothing: keyed digests under the person's own data key.

The outbox keeps one row per cause (a second message for the same cause is never written),
so a cause must be the same whenever the same message would be produced again. Spelled out,
a cause said what happened and when (a duress PIN, to the second) and to whom; here it is an
HMAC of what identifies it, under a key derived from the data key of the person it concerns:
deterministic for the sweep, meaningless without the key, and gone with the person's key.

Messages of one incident (its alerts, all-clears and closing texts) share the incident's own
opaque tag before a ``:``, so the check-ins can still tell which incident a message belonged
to without reading anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from server.vault.keys import derive_key

#: Bytes of HMAC kept in a tag (160 bits): 32 base32 characters.
TAG_BYTES = 20
SEPARATOR = ":"


def _tag(data_key: bytes, purpose: str, parts: tuple[str, ...]) -> str:
    key = derive_key(data_key, purpose)
    message = "\x1f".join(parts).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()[:TAG_BYTES]
    return base64.b32encode(digest).decode("ascii").lower()


def incident_tag(data_key: bytes, plan_id: str, incident: str) -> str:
    """The opaque tag of one incident of one plan (its kind and time stay in the plan's state)."""
    return _tag(data_key, "outbox-incident", (plan_id, incident))


def cause_key(data_key: bytes, *parts: str, incident: str | None = None) -> str:
    """The opaque cause of one message, prefixed by its incident's tag when it has one."""
    tag = _tag(data_key, "outbox-cause", parts)
    return tag if incident is None else f"{incident}{SEPARATOR}{tag}"


def incident_of(cause: str) -> str | None:
    """The incident tag a cause was built with, or None for a message of no incident."""
    head, separator, _ = cause.partition(SEPARATOR)
    return head if separator else None
