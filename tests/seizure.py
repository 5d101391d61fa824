"""What someone who copies the database gets: the raw SQLite files, or a pg_dump."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from server import db


def seize(database: db.Database) -> bytes:
    """Every byte of the database as an attacker would copy it (the engine is closed first)."""
    url = database.engine.url
    database.dispose()
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        files = sorted(path.parent.glob(path.name + "*"))  # the database, its -wal and -shm
        assert path in files
        return b"".join(found.read_bytes() for found in files)
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed for the seized-database tests"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    dump = subprocess.run(
        [pg_dump, "--no-owner", plain], capture_output=True, check=True, timeout=60
    ).stdout
    assert b"COPY public.subscribers" in dump
    return dump
