"""What a content folder covers: the records a load of it may retract without `--prune`.

Partners each keep a folder, and several folders load into one database. A folder that holds
one organisation's records says nothing about the records another folder brought, so a load
retracts, unasked, only a record the folder clearly speaks for:

- of the load's origin (a folder never retracts what an import, the portal or the demo brought);
- of a kind the folder has at least one file of;
- that names at least one region, every one of them a region the folder defines (a file in
  its `regions/`; a folder names no region it does not define, the checks refuse it);
- that names no organisation, or one the folder defines (a file in its `organizations/`).

Regions, organisations and checklists name neither a region nor an organisation of their own,
so only `--prune` retracts them. `docs/content-format.md` states the same rule for operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.content.kinds import ORGANIZATION, REGION, ContentKind
from server.content.records import Parsed


@dataclass(frozen=True)
class Scope:
    """The kinds, regions and organisations one folder holds files of."""

    kinds: frozenset[str]
    regions: frozenset[str]
    organizations: frozenset[str]

    @classmethod
    def of(cls, parsed: dict[str, list[Parsed]]) -> Scope:
        """The scope of a folder's parsed files, by kind name."""
        return cls(
            kinds=frozenset(name for name, items in parsed.items() if items),
            regions=frozenset(item.id for item in parsed[REGION.name]),
            organizations=frozenset(item.id for item in parsed[ORGANIZATION.name]),
        )

    def covers(self, kind: ContentKind, row: Any) -> bool:
        """True when a row of the load's origin that the folder lacks is the folder's to retract."""
        if kind.ties is None or kind.name not in self.kinds:
            return False
        ties = kind.ties(row)
        if not ties.regions or not set(ties.regions) <= self.regions:
            return False
        return ties.organization is None or ties.organization in self.organizations
