"""Catalogue tooling for the Makefile: a stable .pot, the pseudo-locale, compiling, checking.

`python -m server.i18n.tools normalise-pot|pseudo|compile|check` (see `make i18n-*`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from server.i18n import formats
from server.i18n.locales import LOCALES_DIR, PSEUDO_LOCALE
from server.placeholders import PLACEHOLDER, placeholder_problems

POT = LOCALES_DIR / "messages.pot"
#: The checkout the tools run in: babel.cfg and the sources that extraction reads.
ROOT = LOCALES_DIR.parents[1]
_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķĺɱñöþǫŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
PSEUDO_GROWTH = 0.4
EXTRACT = [
    "extract", "-F", "babel.cfg", "--no-location", "--sort-output", "--width=100",
    "--add-comments=Translators:", "--project=Refuge", "--copyright-holder=Refuge contributors",
    "--msgid-bugs-address=translators@refuge.invalid", "-k", "_l", "-k", "lazy_gettext",
    "-k", "lazy_pgettext:1c,2", "-k", "lazy_ngettext:1,2", "-k", "N_",
]  # fmt: skip


HEADER = (
    "# Translations template for Refuge.\n"
    "# This file is distributed under the same license as the Refuge project.\n"
)
#: Header lines that change with the date or the Babel version, not with the strings.
VOLATILE = ('"POT-Creation-Date:', '"Generated-By:')


def normalise_pot(path: Path = POT) -> None:
    """Drop dates and tool versions so that an unchanged extraction leaves no diff."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    body = [line for line in lines if not line.startswith(VOLATILE)]
    while body and body[0].startswith("#") and not body[0].startswith("#,"):
        body.pop(0)  # the comment header carries the year
    path.write_text(HEADER + "".join(body), encoding="utf-8")


def pseudo_text(text: str) -> str:
    """Accented, about 40% longer and bracketed, with placeholders and markup untouched."""
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(text[last : match.start()].translate(_ACCENTED))
        parts.append(match.group(0))
        last = match.end()
    parts.append(text[last:].translate(_ACCENTED))
    padding = "~" * max(1, round(len(text) * PSEUDO_GROWTH))
    return f"[{''.join(parts)} {padding}]"


def write_pseudo(pot: Path = POT) -> Path:
    """Generate the pseudo-locale catalogue from the template (never committed)."""
    with pot.open("rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale=PSEUDO_LOCALE, project="Refuge", fuzzy=False)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            translated: str | tuple[str, ...] = tuple(pseudo_text(part) for part in message.id)
        else:
            translated = pseudo_text(message.id)
        catalog.add(message.id, translated, context=message.context)
    target = pot.parent / PSEUDO_LOCALE / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        write_po(handle, catalog, width=100)
    return target


def catalogues(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Every locale's messages.po."""
    return sorted(locales_dir.glob("*/LC_MESSAGES/messages.po"))


class CatalogueRefused(Exception):
    """A catalogue holds translations that would not format as their source text does."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def placeholder_mismatches(catalog: Catalog, where: Path | str) -> list[str]:
    """`file:line: problems: 'source'` for each message whose translation's placeholders differ
    from its source's, or would not format with the values its source is formatted with."""
    problems: list[str] = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        found = placeholder_problems(message)
        sources = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for string in strings:
            problem = string and formats.format_problem(sources[0], string)
            if problem and problem not in found:
                found.append(problem)
        if found:
            problems.append(f"{where}:{message.lineno}: {'; '.join(found)}: {sources[0]!r}")
    return problems


def compile_all(locales_dir: Path = LOCALES_DIR) -> int:
    """Build every .mo from its .po (the install step runs this; .mo files are not committed).

    Raises CatalogueRefused, writing nothing, when a translation's placeholders differ from
    its source's: a person would otherwise get an error where that message is used.
    """
    pot = locales_dir / POT.name
    if pot.exists():
        write_pseudo(pot)
    compiled: list[tuple[Path, Catalog]] = []
    problems: list[str] = []
    for po in catalogues(locales_dir):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        problems.extend(placeholder_mismatches(catalog, po))
        compiled.append((po, catalog))
    if problems:
        raise CatalogueRefused(problems)
    for po, catalog in compiled:
        with po.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
    return len(compiled)


def check() -> list[str]:
    """Problems that `make check` fails on: a stale .pot, or a catalogue with broken messages."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        subprocess.run(  # noqa: S603
            [str(Path(sys.executable).parent / "pybabel"), *EXTRACT, "-o", str(fresh), "."],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        normalise_pot(fresh)
        if not POT.exists() or fresh.read_text() != POT.read_text():
            problems.append(f"{POT.relative_to(ROOT)} is stale: run `make i18n-extract`")
    with POT.open("rb") as handle:
        template_ids = _ids(read_po(handle))
    for po in catalogues():
        if po.parent.parent.name == PSEUDO_LOCALE:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        where = po.relative_to(ROOT)
        for message, errors in catalog.check():
            problems.extend(f"{where}:{message.lineno}: {error}" for error in errors)
        problems.extend(placeholder_mismatches(catalog, where))
        if _ids(catalog) != template_ids:
            problems.append(f"{where} is out of step with the .pot: run `make i18n-update`")
    return problems


def _ids(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalog if m.id}


def main(argv: list[str]) -> int:
    """Entry point for the Makefile."""
    command = argv[1] if len(argv) > 1 else ""
    if command == "normalise-pot":
        normalise_pot()
    elif command == "pseudo":
        write_pseudo()
    elif command == "compile":
        try:
            print(f"compiled {compile_all()} catalogues")
        except CatalogueRefused as refused:
            for problem in refused.problems:
                print(problem, file=sys.stderr)
            print("no catalogue was compiled: fix the placeholders above", file=sys.stderr)
            return 1
    elif command == "check":
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    else:
        print("usage: python -m server.i18n.tools normalise-pot|pseudo|compile|check")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
