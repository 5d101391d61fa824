"""Which counts a partner may see: none under ten, and none found again by subtraction.

Pure. A *group* is a total and the parts it is the sum of (the requests of one week and
region, by category). Primary rule: a count under `THRESHOLD` is shown as "fewer than 10"
(zero too, so that nothing says whether anyone at all did something). Complementary rule:
with the total shown, the withheld parts can be summed by subtracting the shown parts from
it. Unless that sum is zero (which reveals no one), the smallest shown part is withheld as
well ("withheld to protect a smaller count"), or, when no part is shown, the total. A total
under the threshold withholds the whole group.

Why one more part is enough: a part shown as "withheld" is at least ten, so a part "fewer
than 10" beside it may still be anything from zero up, whatever the subtraction gives.
Without one (every part under ten) the parts alone could pin each other down ({9, 9} with a
total of 18), so the total is withheld instead.

Groups are fixed by what was recorded (one week, one recorded region, one signal), never by
a viewer's filters, so every filter and every combination of them only selects cells of the
same published table: no view holds a sum another view lacks, and nothing can be subtracted.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

#: The smallest count ever shown.
THRESHOLD = 10


class Withheld(enum.Enum):
    """Why a count is not shown."""

    FEWER = "fewer_than_10"  # the count itself is under the threshold
    PROTECTING = "protecting_another"  # shown, it would let a smaller count be subtracted


@dataclass(frozen=True)
class Shown:
    """A count as a partner sees it: its value, or why it is withheld."""

    value: int | None
    withheld: Withheld | None = None

    @classmethod
    def of(cls, count: int) -> Shown:
        """A count on its own (no total it is part of): shown from the threshold up."""
        return cls(count) if count >= THRESHOLD else cls(None, Withheld.FEWER)


@dataclass(frozen=True)
class Group:
    """A group as published: each part, and the total."""

    parts: dict[str, Shown]
    total: Shown


def publish(parts: Mapping[str, int]) -> Group:
    """The parts and their total, with every count that must not be seen withheld."""
    total = sum(parts.values())
    if total < THRESHOLD:
        fewer = Shown(None, Withheld.FEWER)
        return Group(dict.fromkeys(parts, fewer), fewer)
    withheld = {key: Withheld.FEWER for key, count in parts.items() if count < THRESHOLD}
    shown_total = Shown(total)
    if sum(parts[key] for key in withheld) > 0:
        if len(withheld) < len(parts):
            # The smallest shown part (ties by key, so the choice is stable).
            smallest = min((count, key) for key, count in parts.items() if key not in withheld)
            withheld[smallest[1]] = Withheld.PROTECTING
        else:
            # Every part under ten and the total shown: {9, 9} would give 18, and 9 each.
            shown_total = Shown(None, Withheld.PROTECTING)
    return Group(
        {
            key: Shown(None, withheld[key]) if key in withheld else Shown(count)
            for key, count in parts.items()
        },
        shown_total,
    )
