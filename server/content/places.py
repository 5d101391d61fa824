"""Places named in a person's own words: "shelter Kharkiv", "FIND clinic in Cox's Bazar".

A search that names a place is a search in that place, whoever asks and wherever they stand:
someone in Kutupalong asking about their sister in Kharkiv means Kharkiv. Names are matched as
whole words, folded like search folds text (case, accents, digit scripts), in every language a
region is named in, so "COX'S BAZAR" and "কক্সবাজার" find their region. A name shared by two
places, or two places that do not lie one within the other, name no place: the search stays
where the person is, as it would without a place.

Pure (no database): `queries.place_names` reads the names, the conversation and the web match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from server.content.text import fold

#: Small words before a place that belong to it, not to the query ("shelter in Kharkiv").
#: Drafts by language, like the keywords; a word here never names a place itself.
PLACE_WORDS = frozenset(
    fold(word)
    for word in (
        "in", "at", "near", "around",  # en
        "à", "au", "aux", "en", "dans", "près",  # fr
        "в", "у", "біля", "поблизу",  # uk, and ru  # noqa: RUF001
        "около", "рядом",  # ru
        "في", "قرب", "بالقرب",  # ar
    )
)  # fmt: skip


@dataclass(frozen=True)
class PlaceNames:
    """Every current region's names, folded to word tuples, and where each region sits."""

    names: Mapping[tuple[str, ...], frozenset[str]] = field(default_factory=dict)
    parents: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def of(cls, regions: Iterable[tuple[str, str | None, Iterable[str]]]) -> PlaceNames:
        """From (slug, parent slug, names in every language) of each current region."""
        names: dict[tuple[str, ...], set[str]] = {}
        parents: dict[str, str | None] = {}
        for slug, parent, spellings in regions:
            parents[slug] = parent
            for spelling in (*spellings, slug.replace("-", " ")):
                words = tuple(fold(spelling).split())
                if words:
                    names.setdefault(words, set()).add(slug)
        return cls({k: frozenset(v) for k, v in names.items()}, parents)

    @property
    def longest(self) -> int:
        """The most words in any name."""
        return max((len(words) for words in self.names), default=0)

    def within(self, slug: str, ancestor: str) -> bool:
        """True when `slug` is `ancestor` or lies anywhere below it."""
        seen: set[str] = set()
        current: str | None = slug
        while current is not None and current not in seen:
            if current == ancestor:
                return True
            seen.add(current)
            current = self.parents.get(current)
        return False


@dataclass(frozen=True)
class NamedPlace:
    """The place a text names, and the rest of the text (what to look for there)."""

    slug: str
    rest: str


def named_place(text: str, places: PlaceNames) -> NamedPlace | None:
    """The one place `text` names, with the words left once its name is taken out.

    Longest names win ("Kharkiv oblast" over "Kharkiv"); several names are one place when each
    lies within the next ("Kharkiv, Ukraine" is Kharkiv). None: no place, or no single one.
    """
    tokens = text.split()
    folded = [fold(token).split() for token in tokens]
    spans: list[tuple[int, int, frozenset[str]]] = []
    start, longest = 0, places.longest
    while start < len(tokens):
        for end in range(min(len(tokens), start + longest), start, -1):
            words = tuple(word for token in folded[start:end] for word in token)
            slugs = places.names.get(words) if words else None
            if slugs:
                spans.append((start, end, slugs))
                start = end
                break
        else:
            start += 1
    if not spans or any(len(slugs) != 1 for _s, _e, slugs in spans):
        return None
    named = sorted({next(iter(slugs)) for _s, _e, slugs in spans}, key=lambda s: _depth(places, s))
    deepest = named[-1]
    if not all(places.within(deepest, other) for other in named):
        return None
    taken = {index for begin, end, _slugs in spans for index in range(begin, end)}
    taken |= {begin - 1 for begin, _e, _s in spans if begin and _connects(folded[begin - 1])}
    rest = " ".join(token for index, token in enumerate(tokens) if index not in taken)
    return NamedPlace(deepest, rest)


def _connects(words: list[str]) -> bool:
    return len(words) == 1 and words[0] in PLACE_WORDS


def _depth(places: PlaceNames, slug: str) -> int:
    depth, current, seen = 0, places.parents.get(slug), {slug}
    while current is not None and current not in seen:
        seen.add(current)
        depth, current = depth + 1, places.parents.get(current)
    return depth
