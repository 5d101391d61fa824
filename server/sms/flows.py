"""The multi-message paths: finding help, the news, checklists step by step, checking rumours."""

from __future__ import annotations

from babel.dates import format_date

from server.content.text import fold
from server.sms.engine import (
    CONTEXT_CHECKED,
    SET_REGION,
    Effect,
    Outcome,
    Situation,
    chosen,
    reply,
    translate,
)
from server.sms.port import ResourceLine
from server.sms.vocabulary import Command

RESOURCES_PER_ANSWER = 12


def answer(
    outcome: Outcome, situation: Situation, flow: str, text: str, command: Command | None
) -> Outcome | None:
    """Handle a reply to the question last asked; None when it does not answer it."""
    from server.sms import commands

    if flow == "region":
        return pick_region(outcome, situation, text)
    if flow == "category":
        return pick_category(outcome, situation, text)
    if flow == "secure":
        return pick_checklist(outcome, situation, text)
    if flow == "step":
        return step_move(outcome, situation, command)
    if flow == "lang":
        return commands.choose_language(outcome, situation, text)
    if flow == "check":
        return check_text(outcome, situation, text)
    return None


def _date(situation: Situation, value: object) -> str:
    try:
        return format_date(value, format="d MMM yyyy", locale=situation.locale)  # type: ignore[arg-type]
    except (ValueError, LookupError):
        return str(value)


# --- Places -----------------------------------------------------------------------------------


def ask_region(outcome: Outcome, situation: Situation, then: str, prefix: str = "") -> Outcome:
    """Ask where the person is, one level of the region tree at a time."""
    path: list[str] = outcome.state.get("path") or []
    choices = situation.content.regions(path[-1] if path else None, situation.locale)
    lines = [f"{n} {choice.name}" for n, choice in enumerate(choices, start=1)]
    t = translate(situation)
    if path:
        current = situation.content.region(path[-1], situation.locale)
        whole = t.gettext("All of %(place)s") % {"place": current.name if current else path[-1]}
        lines.append(f"{len(choices) + 1} {whole}")
    outcome.state.update(flow="region", then=then, path=path)
    question = t.gettext("Where are you? Reply a number:")
    return reply(outcome, situation, prefix + question + "\n" + "\n".join(lines))


def pick_region(outcome: Outcome, situation: Situation, text: str) -> Outcome | None:
    """The answer to 'where are you?': go one level down, or settle on a region."""
    path: list[str] = outcome.state.get("path") or []
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
        outcome.state["path"] = [*path, choice.slug]
        return ask_region(outcome, situation, outcome.state.get("then") or "find")
    return _settle(outcome, situation, choice.slug)


def _settle(outcome: Outcome, situation: Situation, slug: str) -> Outcome:
    outcome.effects.append(Effect(SET_REGION, slug))
    then = outcome.state.get("then") or "find"
    outcome.state.update(region=slug, path=[], flow=None)
    settled = Situation(**{**situation.__dict__, "region": slug})
    if then == "news":
        return news(outcome, settled)
    return ask_category(outcome, settled)


def _region(outcome: Outcome, situation: Situation) -> str | None:
    region = outcome.state.get("region") or situation.region
    return region if isinstance(region, str) else None


# --- Finding help -----------------------------------------------------------------------------


def find(outcome: Outcome, situation: Situation, words: list[str]) -> Outcome:
    """FIND [category] [place]: ask what is missing, then list verified resources."""
    categories = situation.content.category_names(situation.locale)
    category = next(
        (code for code, name in categories if any(w in fold(name).split() for w in words)), None
    )
    outcome.state["category"] = category
    outcome.state["path"] = []
    if _region(outcome, situation) is None:
        return ask_region(outcome, situation, "find")
    if category is None:
        return ask_category(outcome, situation)
    return results(outcome, situation)


def ask_category(outcome: Outcome, situation: Situation) -> Outcome:
    """Ask what kind of help is needed."""
    categories = situation.content.category_names(situation.locale)
    t = translate(situation)
    lines = [f"{n} {name}" for n, (_code, name) in enumerate(categories, start=1)]
    everything = t.gettext("Everything")
    lines.append(f"{len(categories) + 1} {everything}")
    outcome.state["flow"] = "category"
    return reply(outcome, situation, t.gettext("What do you need?") + "\n" + "\n".join(lines))


def pick_category(outcome: Outcome, situation: Situation, text: str) -> Outcome | None:
    """The answer to 'what do you need?'."""
    categories = situation.content.category_names(situation.locale)
    picked = chosen(text, len(categories) + 1)
    if picked is None:
        named = [code for code, name in categories if fold(name) == fold(text)]
        if not named:
            return None
        outcome.state["category"] = named[0]
    else:
        outcome.state["category"] = categories[picked - 1][0] if picked <= len(categories) else None
    return results(outcome, situation)


def results(outcome: Outcome, situation: Situation) -> Outcome:
    """The verified resources for the region and category, best first, paged with MORE."""
    region = _region(outcome, situation)
    t = translate(situation)
    outcome.state["flow"] = None
    if region is None:
        return ask_region(outcome, situation, "find")
    found = situation.content.resources(
        region, outcome.state.get("category"), situation.locale, 0, RESOURCES_PER_ANSWER
    )
    if not found:
        return reply(
            outcome,
            situation,
            t.gettext("No verified help found for that here. Reply 1 to search again, 0 for menu."),
        )
    return reply(outcome, situation, "\n\n".join(_resource(situation, r) for r in found))


def _resource(situation: Situation, line: ResourceLine) -> str:
    t = translate(situation)
    parts = [line.name]
    if line.call_first and line.phone:
        parts.append(t.gettext("Call first: %(phone)s") % {"phone": line.phone})
    elif line.phone:
        parts.append(line.phone)
    if line.whatsapp and line.whatsapp != line.phone:
        parts.append(t.gettext("WhatsApp: %(phone)s") % {"phone": line.whatsapp})
    checked = _date(situation, line.verified_on)
    if line.stale:
        parts.append(t.gettext("Checked %(date)s, may be out of date") % {"date": checked})
    else:
        parts.append(t.gettext("Checked %(date)s") % {"date": checked})
    return "\n".join(parts)


# --- News -------------------------------------------------------------------------------------


def news(outcome: Outcome, situation: Situation) -> Outcome:
    """Current bulletins for the person's region, with source and date."""
    region = _region(outcome, situation)
    if region is None:
        outcome.state["path"] = []
        return ask_region(outcome, situation, "news")
    t = translate(situation)
    outcome.state["flow"] = None
    items = situation.content.bulletins(region, situation.locale, situation.now)
    if not items:
        return reply(
            outcome, situation, t.gettext("No current news for your area. Reply 0 for menu.")
        )
    labels = {
        "alert": t.gettext("ALERT"),
        "advisory": t.gettext("ADVICE"),
        "context": t.gettext("WHAT WE KNOW"),
    }
    blocks = [
        f"{labels.get(item.kind, '')}: {item.title}\n{item.summary}\n"
        f"({item.source}, {_date(situation, item.issued_on)})"
        for item in items
    ]
    return reply(outcome, situation, "\n\n".join(blocks))


# --- Checklists -------------------------------------------------------------------------------


def secure(outcome: Outcome, situation: Situation) -> Outcome:
    """The account-security checklists, numbered."""
    t = translate(situation)
    guides = situation.content.checklists(situation.locale)
    lines = [f"{n} {guide.title}" for n, guide in enumerate(guides, start=1)]
    outcome.state["flow"] = "secure"
    return reply(outcome, situation, t.gettext("Choose a guide:") + "\n" + "\n".join(lines))


def pick_checklist(outcome: Outcome, situation: Situation, text: str) -> Outcome | None:
    """Open a checklist where the person left it."""
    guides = situation.content.checklists(situation.locale)
    picked = chosen(text, len(guides))
    if picked is None:
        return None
    guide = guides[picked - 1]
    progress = dict(outcome.state.get("progress") or {})
    outcome.state.update(flow="step", checklist=guide.id, step=progress.get(guide.id, 1))
    return show_step(outcome, situation)


def show_step(outcome: Outcome, situation: Situation) -> Outcome:
    """One step as one message, with where it sits and how to move on."""
    checklist = str(outcome.state.get("checklist"))
    index = int(outcome.state.get("step") or 1)
    step = situation.content.step(checklist, index, situation.locale)
    t = translate(situation)
    if step is None:
        outcome.state["flow"] = None
        return reply(outcome, situation, t.gettext("That guide is no longer available."))
    progress = dict(outcome.state.get("progress") or {})
    progress[checklist] = index
    outcome.state["progress"] = progress
    # The moves line speaks the language the step is shown in: an untranslated (English) step
    # with a Burmese line would turn a one-segment GSM-7 text into a paged UCS-2 one.
    shown_in = Situation(**{**situation.__dict__, "locale": step.locale})
    moves = translate(shown_in).gettext("NEXT, BACK or 0 for menu")
    return reply(outcome, situation, f"{step.sms}\n({step.position}/{step.total}) {moves}")


def step_move(outcome: Outcome, situation: Situation, command: Command | None) -> Outcome | None:
    """NEXT and BACK through a checklist; the end says so."""
    if command not in {Command.NEXT, Command.BACK, Command.OK, Command.YES}:
        return None
    checklist = str(outcome.state.get("checklist"))
    index = int(outcome.state.get("step") or 1)
    # The step shown now knows the guide's length (None: the guide is gone, or the step is
    # past its end); far cheaper than listing every guide to find this one.
    here = situation.content.step(checklist, index, situation.locale)
    if here is None:
        return show_step(outcome, situation)  # says the guide is no longer available
    total = here.total
    if command is Command.BACK:
        outcome.state["step"] = max(1, index - 1)
        return show_step(outcome, situation)
    if index >= total:
        progress = dict(outcome.state.get("progress") or {})
        progress.pop(checklist, None)
        outcome.state.update(flow=None, progress=progress)
        t = translate(situation)
        return reply(
            outcome, situation, t.gettext("Well done: that guide is complete. Reply 3 for another.")
        )
    outcome.state["step"] = index + 1
    return show_step(outcome, situation)


# --- Rumours ----------------------------------------------------------------------------------


def check_text(outcome: Outcome, situation: Situation, forwarded: str) -> Outcome:
    """The best verified answer to a forwarded text; the text itself is never kept."""
    region = _region(outcome, situation)
    notes = situation.content.context_notes(forwarded, region, situation.locale, situation.now)
    t = translate(situation)
    outcome.state["flow"] = None
    if not notes:
        outcome.effects.append(Effect(CONTEXT_CHECKED, None))
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
    text = (
        t.gettext("What we know:")
        + f" {best.title}\n{best.summary}\n({best.source}, {_date(situation, best.issued_on)})"
    )
    return reply(outcome, situation, text)
