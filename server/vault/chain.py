"""The audit hash chain: each row's digest covers the previous digest and its own content."""

from __future__ import annotations

import hashlib

#: The hash an audit chain starts from.
CHAIN_GENESIS = "0" * 64


def chain_hash(previous: str, content: bytes) -> str:
    """The hash of one audit row: SHA-256 over the previous row's hash and its own content."""
    return hashlib.sha256(previous.encode("ascii") + b"\n" + content).hexdigest()
