"""SMS answers are read to their end: MORE continues the same item, never skips to the next.

Issue 17, items 2 and 8. A rumour's verdict and a bulletin's last advice used to be cut at
about 220 characters, and MORE moved on to the next item, so they never arrived. Now every
item comes whole: a context note leads with its verdict, a bulletin ends with its source,
issue date and expiry, each page keeps the segment budget (2 GSM-7, 3 UCS-2) and MORE goes
on from where the page ended. On WhatsApp, which holds 4,096 characters, nothing is paged.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from server import db, segments
from server.content import queries
from server.content.markup import plain_text
from server.conversation.items import when
from server.i18n.locales import catalogue
from server.models.bulletins import Bulletin
from server.models.content import Region
from server.models.translations import Translation
from server.scripts import DEFAULT_SCRIPTS, date_locale
from tests.checkin_helpers import Clock, Phone, register
from tests.sms_helpers import BUDGETS, keyword, load_demo_content, settings_of

#: Cyclone signal, dengue advice and both rumours of Cox's Bazar are in force at this moment.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PERSON = "+44 7700 900671"
LOCALES = ("en", "ar", "my", "rhg")
#: Where each locale's reader is, and a rumour they forward (Arabic content is Gedaref's).
WHERE = {
    "en": ("cox-s-bazar", "they put poison in the water", "sample-cxb-water-poison-rumour"),
    "my": ("cox-s-bazar", "they put poison in the water", "sample-cxb-water-poison-rumour"),
    "rhg": ("cox-s-bazar", "faní ot bic dise", "sample-cxb-water-poison-rumour"),
    "ar": ("gedaref", "ناس حيهجموا السوق يوم الخميس", "sample-gedaref-market-attack-rumour"),
}


@pytest.fixture
def loaded(app: Flask) -> Flask:
    load_demo_content(app)
    return app


def flat(text: str) -> str:
    """Text with every run of whitespace one space: pages meet where whitespace was dropped."""
    return " ".join(text.split())


def prompt(locale: str) -> str:
    """The line that ends every page but the last."""
    more = str(catalogue(locale).gettext("Reply MORE for more"))
    return segments.prepare(more, segments.AccentPolicy.TRANSLITERATE)


def read_to_the_end(phone: Phone, first: str, locale: str) -> list[str]:
    """Every page of an answer: MORE while a page ends with the prompt; each within budget."""
    pages = [first]
    ending = "\n" + prompt(locale)
    while pages[-1].endswith(ending):
        assert len(pages) < 40, "an answer that never ends"
        pages.append(phone.ask(keyword(locale, "MORE")))
    for page in pages:
        cost = segments.measure(page)
        assert cost.segments <= BUDGETS[cost.encoding], page
    return pages


def shown(app: Flask, bulletin_id: str, field: str, locale: str) -> str:
    """A bulletin's field as the reader's fallback chain picks it (source or translation)."""
    chain = settings_of(app).localization.chain(locale)
    with db.get_database(app).session() as session:
        row = session.get_one(Bulletin, bulletin_id)
        for each in chain:
            if each == row.source_locale:
                return str(getattr(row, field))
            found = session.scalar(
                select(Translation.text).where(
                    Translation.entity == "bulletin",
                    Translation.entity_id == bulletin_id,
                    Translation.field == field,
                    Translation.locale == each,
                )
            )
            if found:
                return found
        return str(getattr(row, field))


def paragraphs(app: Flask, bulletin_id: str, locale: str) -> list[str]:
    """A bulletin's paragraphs as plain text, as an SMS reply would spell them."""
    text = plain_text(shown(app, bulletin_id, "body", locale))
    return [
        flat(segments.prepare(part, segments.AccentPolicy.TRANSLITERATE))
        for part in text.split("\n")
        if part.strip()
    ]


def without_prompts(pages: list[str], locale: str) -> str:
    ending = "\n" + prompt(locale)
    return flat(" ".join(page.removesuffix(ending) for page in pages))


@pytest.mark.parametrize("locale", LOCALES)
def test_a_rumours_verdict_leads_and_its_last_advice_arrives_by_more(
    loaded: Flask, locale: str
) -> None:
    region, rumour, note = WHERE[locale]
    register(loaded, PERSON, locale, region)
    phone = Phone(loaded, PERSON, Clock(NOW))
    first = phone.ask(f"{keyword(locale, 'CHECK')} {rumour}")
    pages = read_to_the_end(phone, first, locale)
    said = without_prompts(pages, locale)
    claim, verdict, *rest = paragraphs(loaded, note, locale)
    assert verdict in said, said  # whole, to its last word
    assert rest[-1] in said, said  # the last advice arrives too
    assert said.index(verdict) < said.index(claim), "the verdict comes before the rumour"
    assert flat(first).find(verdict[:30]) >= 0, "the first message opens with the verdict"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_bulletins_last_sentence_source_and_expiry_arrive_by_more(
    loaded: Flask, locale: str
) -> None:
    region = WHERE[locale][0]
    register(loaded, PERSON, locale, region)
    phone = Phone(loaded, PERSON, Clock(NOW))
    pages = read_to_the_end(phone, phone.ask(keyword(locale, "NEWS")), locale)
    said = without_prompts(pages, locale)
    with db.get_database(loaded).session() as session:
        place = session.scalars(select(Region).where(Region.slug == region)).one()
        current = [
            (b.id, b.source_name, b.issued_at.date(), b.expires_at)
            for b in queries.current_bulletins(session, place, NOW)
        ]
    assert len(current) >= 2
    assert any(expires is not None for *_, expires in current)  # an expiry to show
    reader = date_locale(locale, dict(DEFAULT_SCRIPTS))  # Rohingya reads English dates
    for bulletin_id, source, issued, expires in current:
        last = paragraphs(loaded, bulletin_id, locale)[-1]
        assert last in said, (bulletin_id, said)
        dated = f"({source}, {when(reader, issued)}"
        if expires is not None:
            until = str(catalogue(locale).gettext("until %(date)s")) % {
                "date": when(reader, expires.date())
            }
            dated += ", " + until
        assert flat(segments.prepare(dated + ")", segments.AccentPolicy.TRANSLITERATE)) in said


def test_whatsapp_gets_the_whole_news_in_one_message_without_more(loaded: Flask) -> None:
    register(loaded, PERSON, "en", "cox-s-bazar")
    sms = Phone(loaded, PERSON, Clock(NOW))
    paged = read_to_the_end(sms, sms.ask("NEWS"), "en")
    assert len(paged) > 1  # by SMS, the news needs MORE
    whatsapp = Phone(loaded, "whatsapp:" + PERSON.replace(" ", ""), Clock(NOW))
    replies = whatsapp.send("NEWS")
    assert len(replies) == 1
    (message,) = replies
    assert len(message) <= 4096
    assert "MORE" not in message
    assert flat(message) == without_prompts(paged, "en")
    # Nothing is left for MORE: it says so and shows the menu, as after any whole answer.
    assert whatsapp.send("MORE")[0].startswith("There is nothing more.")


def test_a_number_behind_a_link_still_reaches_an_sms_reader(loaded: Flask) -> None:
    """By SMS a link cannot be tapped: "call [the desk](tel:...)" must give the number."""
    with db.get_database(loaded).session() as session:
        place = session.scalars(select(Region).where(Region.slug == "cox-s-bazar")).one()
        bulletin = queries.current_bulletins(session, place, NOW)[0]
        bulletin.body += (
            "\n\nAt night call [the protection desk](tel:+447700900139) or write to "
            "[the team](mailto:desk@example.org); results on [our page](https://example.org/r)."
        )
    register(loaded, PERSON, "en", "cox-s-bazar")
    phone = Phone(loaded, PERSON, Clock(NOW))
    said = without_prompts(read_to_the_end(phone, phone.ask("NEWS"), "en"), "en")
    assert "call the protection desk (+447700900139)" in said
    assert "the team (desk@example.org)" in said
    assert "our page (https://example.org/r)" in said
    assert plain_text("Line: [+1 202 555 0119](tel:+12025550119).") == "Line: +1 202 555 0119."
