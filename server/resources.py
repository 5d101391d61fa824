"""Files Refuge ships inside its package, found the same way in a checkout and an installed wheel.

`locales/` (translation catalogues), `migrations/` (Alembic), `demo/` (the demo content) and
`privacy.md` (the privacy text the about page renders) live beside the code that reads them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped(*parts: str) -> Path:
    """The path of a file or folder shipped inside the `server` package."""
    resource = files("server").joinpath(*parts)
    if not isinstance(resource, Path):
        # Babel and Alembic read folders from the file system, so a zipped install cannot work.
        raise RuntimeError(f"{resource} is not on the file system; install Refuge unzipped")
    return resource
