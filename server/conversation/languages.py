"""Choosing a language: the list in the order the person's country is offered, and the
greeting that asks a new number from a country of several peoples which language it reads.
"""

from __future__ import annotations

from dataclasses import replace

from server import segments
from server.conversation.engine import Outcome, Said, Situation, reply
from server.conversation.state import Flow
from server.i18n.locales import catalogue


def choices(situation: Situation) -> list[tuple[str, str]]:
    """Every language as (code, own name): those offered to the person's country first."""
    first = {code: position for position, code in enumerate(situation.offered)}
    names = situation.content.language_names()
    return sorted(names, key=lambda item: first.get(item[0], len(first)))


def welcome(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """A new number's first message: which language? Asked in the first two languages offered,
    above a numbered list of them all, in one message (in one language when two do not fit)."""
    offered = choices(situation)[: len(situation.offered)]
    lines = [f"{position} {name}" for position, (_code, name) in enumerate(offered, start=1)]
    asked = list(
        dict.fromkeys(
            # Translators: the first message a new number gets where several languages are
            # spoken, shown in two languages one above the other, then a numbered list of
            # languages. Keep it very short (about 15 letters): it must fit one SMS.
            str(catalogue(code).gettext("Choose your language:"))
            for code in situation.offered[:2]
        )
    )
    # Named first when it fits: the person texted a number and should know who answers.
    candidates = (["Refuge", *asked], asked, ["Refuge", asked[0]], asked[:1])
    texts = ["\n".join([*heading, *lines]) for heading in candidates]
    text = next((text for text in texts if _one_segment(text, situation)), texts[-1])
    outcome.state = replace(outcome.state, flow=Flow.LANG)
    return reply(outcome, situation, text)


def _one_segment(text: str, situation: Situation) -> bool:
    return segments.measure(segments.prepare(text, situation.accents)).segments == 1
