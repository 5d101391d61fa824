"""Build step: compile the translation catalogues into the .mo files a wheel ships.

Everything else about the package is in pyproject.toml. Compiled catalogues are never
committed; `make` compiles them in a checkout, and this compiles them into every build.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    """build_py, then each copied messages.po compiled beside it (as `make` does)."""

    def run(self) -> None:
        super().run()
        for po in Path(self.build_lib).glob("server/locales/*/LC_MESSAGES/messages.po"):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogues})
