"""The multi-message paths: finding help, the news, checklists step by step, checking rumours."""

from __future__ import annotations

from dataclasses import replace

from server.content.places import NamedPlace, named_place
from server.content.text import fold
from server.conversation import distress, items
from server.conversation.engine import (
    CONTEXT_CHECKED,
    REQUESTED,
    RUMOUR_WORDS,
    SET_REGION,
    Effect,
    Outcome,
    Said,
    Situation,
    chosen,
    reply,
    translate,
)
from server.conversation.port import ResourceLine
from server.conversation.state import Flow, Then
from server.conversation.vocabulary import Command, number
from server.signals.words import rumour_words

#: Enough for a place with its area's and country's resources (Kharkiv: 13), paged with MORE.
RESOURCES_PER_ANSWER = 20
#: A message of at most this many words that is no command is searched for.
SEARCH_WORDS = 2
#: Shorter words ("hi", "ok") are greetings and answers, not searches: the menu answers them.
MIN_SEARCH = 3


# --- Places -----------------------------------------------------------------------------------


def ask_region(outcome: Outcome, situation: Situation, then: Then) -> Outcome:
    """Ask where the person is, one level of the region tree at a time."""
    path = outcome.state.path
    choices = situation.content.regions(path[-1] if path else None, situation.locale)
    lines = [f"{n} {choice.name}" for n, choice in enumerate(choices, start=1)]
    t = translate(situation)
    if path:
        current = situation.content.region(path[-1], situation.locale)
        whole = t.gettext("All of %(place)s") % {"place": current.name if current else path[-1]}
        lines.append(f"{len(choices) + 1} {whole}")
    outcome.state = replace(outcome.state, flow=Flow.REGION, then=then)
    question = t.gettext("Where are you? Reply a number:")
    return reply(outcome, situation, question + "\n" + "\n".join(lines))


def pick_region(outcome: Outcome, situation: Situation, said: Said) -> Outcome | None:
    """The answer to 'where are you?': go one level down, or settle on a region."""
    text = said.text
    path = outcome.state.path
    choices = situation.content.regions(path[-1] if path else None, situation.locale)
    picked = chosen(text, len(choices) + (1 if path else 0))
    if picked is None:
        by_name = [c for c in choices if fold(c.name) == fold(text) or c.slug == fold(text)]
        if not by_name:
            return None
        picked = choices.index(by_name[0]) + 1
    if picked > len(choices):
        return _settle(outcome, situation, path[-1])
    choice = choices[picked - 1]
    if choice.has_children:
        outcome.state = replace(outcome.state, path=(*path, choice.slug))
        return ask_region(outcome, situation, outcome.state.then)
    return _settle(outcome, situation, choice.slug)


def _settle(outcome: Outcome, situation: Situation, slug: str) -> Outcome:
    outcome.effects.append(Effect(SET_REGION, slug))
    then = outcome.state.then
    outcome.state = replace(outcome.state, region=slug, path=(), flow=None)
    settled = replace(situation, region=slug)
    if then is Then.NEWS:
        return _news(outcome, settled)
    return ask_category(outcome, settled)


def _region(outcome: Outcome, situation: Situation) -> str | None:
    return outcome.state.region or situation.region


# --- Finding help -----------------------------------------------------------------------------


def find(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """FIND [category], or FIND and any words: ask what is missing, then list verified resources.

    Words that name no category are searched for, in the person's region when it is known;
    words that name a place search there instead (`find_in`).
    """
    words = said.words
    place = named_place(" ".join(said.text.split()[1:]), situation.content.place_names())
    if place is not None:
        return find_in(outcome, situation, place)
    category = _category_of(situation, words)
    if words and category is None:
        return search(outcome, situation, " ".join(said.text.split()[1:]))
    outcome.state = replace(outcome.state, category=category, path=())
    if _region(outcome, situation) is None:
        return ask_region(outcome, situation, Then.FIND)
    if category is None:
        return ask_category(outcome, situation)
    return results(outcome, situation)


def _category_of(situation: Situation, words: list[str]) -> str | None:
    """The category one of these folded words names, if any."""
    categories = situation.content.category_names(situation.locale)
    return next(
        (code for code, name in categories if any(w in fold(name).split() for w in words)), None
    )


def find_in(outcome: Outcome, situation: Situation, place: NamedPlace) -> Outcome:
    """Help in a place the person named, whatever place they chose: the words left name a
    category or are searched for there; a place alone lists everything there.

    The person's own place is not changed: someone asking about a relative's town stays where
    they are for everything else.
    """
    outcome.state = replace(outcome.state, flow=None, path=())
    content, locale = situation.content, situation.locale
    words = fold(place.rest).split()
    category = _category_of(situation, words)
    if words and category is None:
        found = content.search(place.rest, place.slug, locale, RESOURCES_PER_ANSWER)
    else:
        found = content.resources(place.slug, category, locale, 0, RESOURCES_PER_ANSWER)
    named = content.region(place.slug, locale)
    where = named.name if named is not None else place.slug
    t = translate(situation)
    if not found:
        return reply(
            outcome,
            situation,
            t.gettext(
                "No verified help found for that in %(place)s. Reply 1 to search again, 0 for menu."
            )
            % {"place": where},
        )
    # Translators: the first line of a list of resources found in a place the person named.
    heading = t.gettext("Verified help in %(place)s:") % {"place": where}
    listed = "\n\n".join(items.resource(situation, r) for r in found)
    return reply(outcome, situation, f"{heading}\n{listed}")


def ask_category(outcome: Outcome, situation: Situation) -> Outcome:
    """Ask what kind of help is needed."""
    categories = situation.content.category_names(situation.locale)
    t = translate(situation)
    lines = [f"{n} {name}" for n, (_code, name) in enumerate(categories, start=1)]
    everything = t.gettext("Everything")
    lines.append(f"{len(categories) + 1} {everything}")
    outcome.state = replace(outcome.state, flow=Flow.CATEGORY)
    return reply(outcome, situation, t.gettext("What do you need?") + "\n" + "\n".join(lines))


def pick_category(outcome: Outcome, situation: Situation, said: Said) -> Outcome | None:
    """The answer to 'what do you need?'."""
    text = said.text
    categories = situation.content.category_names(situation.locale)
    picked = chosen(text, len(categories) + 1)
    if picked is None:
        named = [code for code, name in categories if fold(name) == fold(text)]
        if not named:
            return None
        category: str | None = named[0]
    else:
        category = categories[picked - 1][0] if picked <= len(categories) else None
    outcome.state = replace(outcome.state, category=category)
    return results(outcome, situation)


def results(outcome: Outcome, situation: Situation) -> Outcome:
    """The verified resources for the region and category, best first, paged with MORE."""
    region = _region(outcome, situation)
    t = translate(situation)
    outcome.state = replace(outcome.state, flow=None)
    if region is None:
        return ask_region(outcome, situation, Then.FIND)
    found = situation.content.resources(
        region, outcome.state.category, situation.locale, 0, RESOURCES_PER_ANSWER
    )
    outcome.effects.append(Effect(REQUESTED, outcome.state.category or "all"))
    if not found:
        return reply(
            outcome,
            situation,
            t.gettext("No verified help found for that here. Reply 1 to search again, 0 for menu."),
        )
    return reply(outcome, situation, "\n\n".join(items.resource(situation, r) for r in found))


def search(outcome: Outcome, situation: Situation, words: str) -> Outcome:
    """Resources matching a person's own words, in their region when known, best first."""
    outcome.state = replace(outcome.state, flow=None)
    found = situation.content.search(
        words, _region(outcome, situation), situation.locale, RESOURCES_PER_ANSWER
    )
    outcome.effects.append(Effect(REQUESTED, "search"))
    if not found:
        t = translate(situation)
        return reply(
            outcome,
            situation,
            t.gettext("No verified help found for that here. Reply 1 to search again, 0 for menu."),
        )
    return _listed(outcome, situation, found)


def _listed(outcome: Outcome, situation: Situation, found: list[ResourceLine]) -> Outcome:
    return reply(outcome, situation, "\n\n".join(items.resource(situation, r) for r in found))


def free_text(outcome: Outcome, situation: Situation, text: str) -> Outcome | None:
    """A message that is no command and answers no question, read for what it may mean.

    A long one that matches a known rumour gets its context note; a cry for help (long, or
    with a word asking for help in any language) gets the emergency line; a place's name
    (with a word or two) lists help there; a word or two are searched for in the person's
    region. None: the menu answers (a greeting, say).
    """
    folded = fold(text)
    if not folded or number(text) is not None:
        return None
    region = _region(outcome, situation)
    long = len(folded.split()) >= distress.LONG_WORDS or len(folded) >= distress.LONG_CHARACTERS
    if long and situation.content.context_notes(text, region, situation.locale, situation.now):
        return check_text(outcome, situation, text)
    if distress.looks_like_distress(text):
        return distress.emergency(outcome, situation)
    place = named_place(text, situation.content.place_names())
    if place is not None and len(fold(place.rest).split()) <= SEARCH_WORDS:
        return find_in(outcome, situation, place)
    if len(folded.split()) <= SEARCH_WORDS and len(folded) >= MIN_SEARCH:
        found = situation.content.search(text, region, situation.locale, RESOURCES_PER_ANSWER)
        if found:
            outcome.state = replace(outcome.state, flow=None)
            return _listed(outcome, situation, found)
    return None


# --- News -------------------------------------------------------------------------------------


def news(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """Current bulletins for the person's region, with source and date."""
    return _news(outcome, situation)


def _news(outcome: Outcome, situation: Situation) -> Outcome:
    region = _region(outcome, situation)
    if region is None:
        outcome.state = replace(outcome.state, path=())
        return ask_region(outcome, situation, Then.NEWS)
    t = translate(situation)
    outcome.state = replace(outcome.state, flow=None)
    found = situation.content.bulletins(region, situation.locale, situation.now)
    if not found:
        return reply(
            outcome, situation, t.gettext("No current news for your area. Reply 0 for menu.")
        )
    return reply(outcome, situation, "\n\n".join(items.bulletin(situation, item) for item in found))


# --- Checklists -------------------------------------------------------------------------------


def secure(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The account-security checklists, numbered."""
    t = translate(situation)
    guides = situation.content.checklists(situation.locale)
    lines = [f"{n} {guide.title}" for n, guide in enumerate(guides, start=1)]
    outcome.state = replace(outcome.state, flow=Flow.SECURE)
    return reply(outcome, situation, t.gettext("Choose a guide:") + "\n" + "\n".join(lines))


def pick_checklist(outcome: Outcome, situation: Situation, said: Said) -> Outcome | None:
    """Open a checklist where the person left it."""
    guides = situation.content.checklists(situation.locale)
    picked = chosen(said.text, len(guides))
    if picked is None:
        return None
    guide = guides[picked - 1]
    step = outcome.state.progress_of(guide.id) or 1
    outcome.state = replace(outcome.state, flow=Flow.STEP, checklist=guide.id, step=step)
    return show_step(outcome, situation)


def show_step(outcome: Outcome, situation: Situation) -> Outcome:
    """One step as one message, with where it sits and how to move on."""
    checklist, index = outcome.state.checklist, outcome.state.step
    step = situation.content.step(checklist, index, situation.locale)
    t = translate(situation)
    if step is None:
        outcome.state = replace(outcome.state, flow=None)
        return reply(outcome, situation, t.gettext("That guide is no longer available."))
    progress = outcome.state.with_progress(checklist, index)
    outcome.state = replace(outcome.state, progress=progress)
    # The moves line speaks the language the step is shown in: an untranslated (English) step
    # with a Burmese line would turn a one-segment GSM-7 text into a paged UCS-2 one.
    shown_in = replace(situation, locale=step.locale)
    moves = translate(shown_in).gettext("NEXT, BACK or 0 for menu")
    mark = items.outdated(shown_in) + "\n" if step.outdated else ""
    text = f"{mark}{step.sms}\n({step.position}/{step.total}) {moves}"
    return reply(outcome, situation, text)


def step_move(outcome: Outcome, situation: Situation, said: Said) -> Outcome | None:
    """NEXT and BACK through a checklist; the end says so."""
    command = said.command
    if command not in {Command.NEXT, Command.BACK, Command.OK, Command.YES}:
        return None
    checklist, index = outcome.state.checklist, outcome.state.step
    # The step shown now knows the guide's length (None: the guide is gone, or the step is
    # past its end); far cheaper than listing every guide to find this one.
    here = situation.content.step(checklist, index, situation.locale)
    if here is None:
        return show_step(outcome, situation)  # says the guide is no longer available
    total = here.total
    if command is Command.BACK:
        outcome.state = replace(outcome.state, step=max(1, index - 1))
        return show_step(outcome, situation)
    if index >= total:
        progress = outcome.state.with_progress(checklist, None)
        outcome.state = replace(outcome.state, flow=None, progress=progress)
        t = translate(situation)
        return reply(
            outcome, situation, t.gettext("Well done: that guide is complete. Reply 3 for another.")
        )
    outcome.state = replace(outcome.state, step=index + 1)
    return show_step(outcome, situation)


# --- Rumours ----------------------------------------------------------------------------------


def answer_check(outcome: Outcome, situation: Situation, said: Said) -> Outcome:
    """The message that 'send CHECK and the message' asked for."""
    return check_text(outcome, situation, said.text)


def check_text(outcome: Outcome, situation: Situation, forwarded: str) -> Outcome:
    """The best verified answer to a forwarded text; the text itself is never kept."""
    region = _region(outcome, situation)
    notes = situation.content.context_notes(forwarded, region, situation.locale, situation.now)
    t = translate(situation)
    outcome.state = replace(outcome.state, flow=None)
    if not notes:
        outcome.effects.append(Effect(CONTEXT_CHECKED, None))
        counted = rumour_words(forwarded)
        if counted:
            outcome.effects.append(Effect(RUMOUR_WORDS, " ".join(counted)))
        return reply(
            outcome,
            situation,
            t.gettext(
                "We could not confirm this. Please do not share it until a trusted source "
                "does. It has been noted, thank you."
            ),
        )
    best = notes[0]
    outcome.effects.append(Effect(CONTEXT_CHECKED, best.id))
    return reply(outcome, situation, items.context_note(situation, best))
