"""What Refuge counts for partners, beside the delivery tallies: requests, opt-outs, rumours.

Every count is an anonymous daily `Tally` (kind, subject, region, day). The words of
unmatched rumour checks are the one signal that could carry what a person wrote, so they go
through `WordSighting` first: a keyed digest of the word and one of the number *with* the
word (so the sightings of one number cannot be joined into the bag of words it sent), under
purposes that name the week. Once ten different numbers sent a word in a week and region,
the folded word becomes a tally and its sightings are deleted; the worker's purge deletes
every earlier week's sightings. A word fewer than ten numbers used is never written out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db import insert_for, vault_of
from server.delivery.outbox import tally
from server.models.messaging import Tally, WordSighting

#: Tally kinds this package adds (the delivery tallies are `server.delivery`'s).
REQUEST = "request"
OPT_OUT = "opt_out"
RUMOUR_WORD = "rumour_word"
#: A rumour check (the conversation's own tally): subject a context note's id, or UNMATCHED.
CONTEXT_CHECK = "context_check"
UNMATCHED = "unverified"
#: Request subjects beside the categories: every category at once, and words searched for.
EVERYTHING = "all"
SEARCH = "search"
#: A word is written out only once this many different numbers sent it in a week and region.
DISTINCT_NUMBERS = 10


def week_of(day: date) -> date:
    """The Monday of the ISO week `day` falls in: how every signal is grouped."""
    return day - timedelta(days=day.weekday())


def note_words(
    session: Session, sender: str, region: str | None, words: Iterable[str], today: date
) -> None:
    """Count the words of one unmatched rumour check from `sender` (an E.164 number)."""
    keys = vault_of(session)
    week = week_of(today)
    place = region or ""
    for word in words:
        if _written_out(session, week, place, word):
            tally(session, RUMOUR_WORD, word, week, region=place)
            continue
        word_digest = keys.keyed_digest(f"signal-word:{week.isoformat()}", word)
        sender_digest = keys.keyed_digest(
            f"signal-sender:{week.isoformat()}", f"{place}\x00{word}\x00{sender}"
        )
        session.execute(
            insert_for(session)(WordSighting)
            .values(
                week=week,
                region_slug=place,
                word_digest=word_digest,
                sender_digest=sender_digest,
                checks=1,
            )
            .on_conflict_do_update(
                index_elements=["week", "region_slug", "word_digest", "sender_digest"],
                set_={"checks": WordSighting.checks + 1},
            )
        )
        _write_out_when_seen_enough(session, week, place, word, word_digest)


def _written_out(session: Session, week: date, region: str, word: str) -> bool:
    found = session.scalar(
        select(Tally.id).where(
            Tally.kind == RUMOUR_WORD,
            Tally.subject == word,
            Tally.region_slug == region,
            Tally.day == week,
        )
    )
    return found is not None


def _write_out_when_seen_enough(
    session: Session, week: date, region: str, word: str, word_digest: bytes
) -> None:
    """Ten numbers sent the word: it becomes a tally, and who sent it is forgotten."""
    same = (
        WordSighting.week == week,
        WordSighting.region_slug == region,
        WordSighting.word_digest == word_digest,
    )
    numbers, checks = session.execute(
        select(func.count(), func.coalesce(func.sum(WordSighting.checks), 0)).where(*same)
    ).one()
    if numbers < DISTINCT_NUMBERS:
        return
    tally(session, RUMOUR_WORD, word, week, int(checks), region=region)
    session.execute(delete(WordSighting).where(*same))


def forget_past_sightings(session: Session, _settings: Settings, today: date) -> int:
    """Delete the sightings of every week before this one (a worker purge): how many rows."""
    result = session.execute(delete(WordSighting).where(WordSighting.week < week_of(today)))
    return int(getattr(result, "rowcount", 0) or 0)
