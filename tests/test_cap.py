"""CAP 1.2 interchange: alerts parsed safely, imported for review, and exported valid."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, tostring

import defusedxml.ElementTree as safe_xml
import hypothesis
import pytest
from flask import Flask
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import db
from server.content import drafts, markup
from server.content.cap import (
    CAP_NAMESPACE,
    MAX_DOCUMENT_BYTES,
    CapAlert,
    CapError,
    cap_bulletin_id,
    escape_markdown,
    parse_cap,
    unescape_markdown,
)
from server.content.cap_export import (
    CapExportError,
    cap_datetime,
    export_cap_alert,
    export_cap_many,
    reviewed_translations,
)
from server.content.cap_import import CapImportReport, SkippedAlert, import_cap
from server.content.kinds import BULLETIN
from server.models.bulletins import Bulletin, BulletinKind, BulletinStatus, Severity
from server.models.content import Region, RegionKind
from server.models.translations import Translation, TranslationStatus, source_digest

FIXTURES = Path(__file__).parent / "fixtures" / "cap"
FIXTURE_NAMES = ("cyclone-alert", "cyclone-update", "cyclone-cancel")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SENDER = "sample-dmo@example.org"
ALERT_ID = "SAMPLE-DMO-2026-11-25-001"
UPDATE_ID = "SAMPLE-DMO-2026-11-25-002"
REFUGE = "refuge-sample@example.org"
CAP_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}$")
HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")
NO_ALERT = re.escape("no CAP 1.2 <alert> found")
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.xml").read_bytes()


def edit(data: bytes, old: str, new: str) -> bytes:
    """The document with every occurrence of old replaced; old must occur."""
    assert old.encode() in data
    return data.replace(old.encode(), new.encode())


def feed(*documents: bytes) -> bytes:
    """An Atom feed whose entries embed the given CAP documents."""
    entries = b"".join(
        b"<entry><title>alert</title><content type='application/cap+xml'>"
        + re.sub(rb"^<\?xml[^>]*\?>", b"", document.strip())
        + b"</content></entry>"
        for document in documents
    )
    return b"<feed xmlns='http://www.w3.org/2005/Atom'><title>Sample</title>" + entries + b"</feed>"


def new_region(slug: str, name: str, kind: RegionKind = RegionKind.AREA) -> Region:
    return Region(
        slug=slug,
        kind=kind,
        name=name,
        country_code="BD",
        timezone="Asia/Dhaka",
        default_locale="bn",
    )


@pytest.fixture
def database(app: Flask) -> db.Database:
    return db.get_database(app)


@pytest.fixture
def regions(database: db.Database) -> None:
    with database.session() as session:
        country = new_region("bangladesh", "Bangladesh", RegionKind.COUNTRY)
        session.add(country)
        for slug, name in (("cox-s-bazar", "Cox's Bazar"), ("teknaf", "Teknaf")):
            region = new_region(slug, name)
            region.parent = country
            session.add(region)


def run_import(
    database: db.Database,
    *documents: bytes,
    publish: bool = False,
    now: datetime = NOW,
    region_slugs: list[str] | None = None,
) -> CapImportReport:
    with database.session() as session:
        alerts = [alert for document in documents for alert in parse_cap(document)]
        chosen = None
        if region_slugs is not None:
            chosen = list(session.scalars(select(Region).where(Region.slug.in_(region_slugs))))
        return import_cap(session, alerts, regions=chosen, publish=publish, now=now)


def all_bulletins(session: Session) -> list[Bulletin]:
    return list(session.scalars(select(Bulletin).order_by(Bulletin.id)))


def translations_of(session: Session, bulletin: Bulletin) -> dict[tuple[str, str], Translation]:
    rows = session.scalars(select(Translation).where(Translation.entity_id == bulletin.id))
    return {(row.locale, row.field): row for row in rows}


def slugs(bulletin: Bulletin) -> set[str]:
    return {region.slug for region in bulletin.regions}


def snapshot(database: db.Database) -> list[Any]:
    """Everything an import can touch, to compare before and after."""
    with database.session() as session:
        state: list[Any] = []
        for bulletin in all_bulletins(session):
            columns = {c.key: getattr(bulletin, c.key) for c in Bulletin.__table__.columns}
            state.append((columns, sorted(slugs(bulletin))))
        for row in session.scalars(select(Translation).order_by(Translation.id)):
            state.append((row.locale, row.field, row.text, row.status, row.updated_at))
        return state


# Parsing


def test_an_alert_is_read_with_its_info_blocks_and_areas() -> None:
    (alert,) = parse_cap(fixture("cyclone-alert"))
    assert (alert.identifier, alert.sender) == (ALERT_ID, SENDER)
    assert alert.sent == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    english, bengali = alert.infos
    assert (english.language, bengali.language) == ("en", "bn")
    assert english.categories == ("Met",)
    assert (english.event, english.urgency, english.severity) == ("Cyclone", "Expected", "Severe")
    assert english.certainty == "Likely"
    assert english.onset == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert english.expires == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert english.sender_name == "Sample Disaster Management Office"
    assert english.web == "https://example.org/alerts/cyclone-2026-11"
    assert english.description is not None
    assert "km/h & a storm surge" in english.description
    coast, teknaf = english.areas
    assert coast.description == "Cox's Bazar"
    assert coast.geocodes == (("SAMPLE-DISTRICT", "2022"),)
    assert coast.polygons == ("21.00,91.90 21.50,91.90 21.50,92.20 21.00,92.20 21.00,91.90",)
    assert teknaf.circles == ("20.86,92.30 15",)


def test_an_update_and_a_cancel_carry_their_references() -> None:
    (update,) = parse_cap(fixture("cyclone-update"))
    (reference,) = update.references
    assert (reference.sender, reference.identifier) == (SENDER, ALERT_ID)
    assert reference.sent == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    (cancel,) = parse_cap(fixture("cyclone-cancel"))
    assert cancel.msg_type == "Cancel"
    assert [ref.identifier for ref in cancel.references] == [ALERT_ID, UPDATE_ID]
    assert cancel.note is not None
    assert "weakened" in cancel.note


def test_a_feed_embedding_several_alerts_is_read() -> None:
    alerts = parse_cap(feed(fixture("cyclone-alert"), fixture("cyclone-update")))
    assert [alert.identifier for alert in alerts] == [ALERT_ID, UPDATE_ID]


def test_a_missing_language_means_english() -> None:
    (alert,) = parse_cap(edit(fixture("cyclone-update"), "<language>en-US</language>", ""))
    assert alert.infos[0].language == "en"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(
            """<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>""",
            "DTD",
            id="billion-laughs",
        ),
        pytest.param(
            '<!DOCTYPE alert [<!ENTITY a "' + "a" * 50_000 + '">]>'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
            "<note>" + "&a;" * 5_000 + "</note></alert>",
            "DTD",
            id="quadratic-blowup",
        ),
        pytest.param(
            '<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
            "<identifier>&xxe;</identifier></alert>",
            "DTD",
            id="external-entity",
        ),
        pytest.param(
            '<!DOCTYPE alert SYSTEM "https://example.org/cap.dtd">'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
            "<identifier>x</identifier></alert>",
            "DTD",
            id="external-dtd",
        ),
        pytest.param(
            '<!DOCTYPE alert [<!ENTITY % remote SYSTEM "https://example.org/evil.dtd"> %remote;]>'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>',
            "DTD",
            id="parameter-entity",
        ),
        pytest.param(
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier>'
            "</alert>",
            "undefined entity",
            id="undeclared-entity",
        ),
    ],
)
def test_xml_attacks_are_refused(document: str, message: str) -> None:
    with pytest.raises(CapError, match=message):
        parse_cap(b'<?xml version="1.0"?>\n' + document.encode())


def test_malformed_xml_is_refused_with_its_line_and_column() -> None:
    broken = edit(fixture("cyclone-alert"), "</sender>", "</sendr>")
    with pytest.raises(CapError, match=r"malformed XML at line 5, column \d+: mismatched tag"):
        parse_cap(broken)


@pytest.mark.parametrize(
    "document",
    [
        b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.1"><identifier>x</identifier></alert>',
        b"<alert><identifier>x</identifier></alert>",
    ],
    ids=["cap-1.1", "no-namespace"],
)
def test_an_alert_outside_the_cap_1_2_namespace_is_refused(document: bytes) -> None:
    with pytest.raises(CapError, match=re.escape(f"expected {CAP_NAMESPACE!r}")):
        parse_cap(document)


@pytest.mark.parametrize("document", [b"<feed/>", b"<rss><channel/></rss>", b"<a>text</a>"])
def test_a_document_without_a_cap_alert_is_refused(document: bytes) -> None:
    with pytest.raises(CapError, match=NO_ALERT):
        parse_cap(document)


def test_error_messages_quote_hostile_values_briefly() -> None:
    with pytest.raises(CapError, match=NO_ALERT) as refused:
        parse_cap(b"<" + b"x" * 100_000 + b"/>")
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize("element", ["identifier", "sender", "sent", "status", "msgType", "scope"])
def test_an_alert_missing_a_required_element_is_refused(element: str) -> None:
    document = re.sub(rf"<{element}>[^<]*</{element}>".encode(), b"", fixture("cyclone-alert"))
    with pytest.raises(CapError, match=f"missing <{element}>"):
        parse_cap(document)


def test_an_empty_identifier_counts_as_missing() -> None:
    document = edit(fixture("cyclone-alert"), ALERT_ID, "  ")
    with pytest.raises(CapError, match="alert is missing <identifier>"):
        parse_cap(document)


@pytest.mark.parametrize(
    "sent",
    [
        "2026-11-25",
        "2026-11-25T12:00:00",
        "25/11/2026 12:00",
        "2026-13-45T12:00:00+06:00",
        "2026-11-25T12:00:00+25:00",
        "0001-01-01T00:00:00+06:00",
        "\uff12\uff10\uff12\uff16-11-25T12:00:00+06:00",  # full-width digits
    ],
)
def test_an_unreadable_sent_time_is_refused(sent: str) -> None:
    document = edit(fixture("cyclone-alert"), "2026-11-25T12:00:00+06:00</sent>", f"{sent}</sent>")
    with pytest.raises(CapError, match=f"<sent>: {re.escape(repr(sent))} is not a date-time"):
        parse_cap(document)


def test_a_bad_expiry_or_reference_time_is_refused() -> None:
    bad_expiry = edit(fixture("cyclone-update"), "2026-11-28T06:00:00+06:00", "tomorrow")
    with pytest.raises(CapError, match="info 1 <expires>: 'tomorrow'"):
        parse_cap(bad_expiry)
    bad_reference = edit(fixture("cyclone-update"), "001,2026-11-25T12:00:00+06:00", "001,soon")
    with pytest.raises(CapError, match="<references>: 'soon'"):
        parse_cap(bad_reference)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<status>Actual</status>", "<status>Real</status>", "<status> 'Real' is not one of"),
        ("<msgType>Alert</msgType>", "<msgType>Notice</msgType>", "<msgType> 'Notice'"),
        ("<scope>Public</scope>", "<scope>Everyone</scope>", "<scope> 'Everyone'"),
        (ALERT_ID, "SAMPLE DMO 1", "must not contain spaces, commas"),
        ("<language>en-US</language>", "<language>English!</language>", "not a language"),
    ],
)
def test_values_outside_cap_are_refused(old: str, new: str, message: str) -> None:
    with pytest.raises(CapError, match=re.escape(message)):
        parse_cap(edit(fixture("cyclone-alert"), old, new))


def test_a_malformed_reference_is_refused() -> None:
    document = edit(fixture("cyclone-update"), f"{SENDER},{ALERT_ID},", f"{SENDER};{ALERT_ID},")
    with pytest.raises(CapError, match="is not 'sender,identifier,sent'"):
        parse_cap(document)


def test_an_oversized_document_is_refused_unread() -> None:
    with pytest.raises(CapError, match="larger than"):
        parse_cap(b" " * (MAX_DOCUMENT_BYTES + 1))


def test_deeply_nested_elements_do_not_exhaust_the_stack() -> None:
    with pytest.raises(CapError, match=NO_ALERT):
        parse_cap(b"<a>" * 100_000 + b"</a>" * 100_000)


def assert_parses_or_refuses(data: bytes) -> list[CapAlert] | None:
    """parse_cap either returns alerts or raises CapError: never anything else."""
    try:
        alerts = parse_cap(data)
    except CapError:
        return None
    assert all(alert.sent.tzinfo is UTC for alert in alerts)
    return alerts


@hypothesis.given(st.binary(max_size=4096))
def test_arbitrary_bytes_parse_or_raise_cap_error(data: bytes) -> None:
    assert_parses_or_refuses(data)


@hypothesis.given(
    st.sampled_from(FIXTURE_NAMES),
    st.integers(min_value=0),
    st.integers(min_value=0, max_value=64),
    st.binary(max_size=64),
)
def test_mutated_documents_parse_or_raise_cap_error(
    name: str, position: int, deleted: int, inserted: bytes
) -> None:
    data = fixture(name)
    at = position % (len(data) + 1)
    assert_parses_or_refuses(data[:at] + inserted + data[at + deleted :])


@hypothesis.given(
    st.sampled_from(FIXTURE_NAMES),
    st.integers(min_value=0),
    st.text(st.characters(exclude_categories=["Cs"])),
)
def test_any_element_text_parses_or_raises_cap_error(name: str, index: int, text: str) -> None:
    root = safe_xml.fromstring(fixture(name), forbid_dtd=True)
    elements = list(root.iter())
    elements[index % len(elements)].text = text
    assert_parses_or_refuses(tostring(root, encoding="utf-8"))


@hypothesis.given(
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,8})?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})\Z"
    )
)
def test_date_like_sent_times_parse_or_raise_cap_error(sent: str) -> None:
    document = edit(fixture("cyclone-alert"), "2026-11-25T12:00:00+06:00</sent>", f"{sent}</sent>")
    assert_parses_or_refuses(document)


# Markdown safety


@hypothesis.given(st.text())
def test_escaped_text_renders_as_plain_paragraphs(text: str) -> None:
    escaped = escape_markdown(text)
    assert set(HTML_TAG.findall(MARKDOWN.render(escaped))) <= {"p"}
    assert escape_markdown(unescape_markdown(escaped)) == escaped


def test_escaping_keeps_the_words_and_paragraphs() -> None:
    text = "  Go to *Camp 4*, [shelter](https://x.example)\r\n\r\n\r\n1. Take water & <b>food</b>\n"
    escaped = escape_markdown(text)
    assert escaped == (
        "Go to \\*Camp 4\\*, \\[shelter\\](https://x.example)\n\n"
        "1\\. Take water \\& \\<b\\>food\\</b\\>"
    )
    assert unescape_markdown(escaped) == (
        "Go to *Camp 4*, [shelter](https://x.example)\n\n1. Take water & <b>food</b>"
    )


# Import


def test_an_actual_alert_becomes_a_bulletin_waiting_for_review(
    database: db.Database, regions: None
) -> None:
    report = run_import(database, fixture("cyclone-alert"))
    assert (report.created, report.updated, report.cancelled, report.skipped) == (1, 0, 0, [])
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.id == cap_bulletin_id(SENDER, ALERT_ID)
        assert re.fullmatch(r"cap-[0-9a-f]{16}", bulletin.id)
        assert bulletin.kind is BulletinKind.ALERT
        assert bulletin.origin == "cap"
        assert bulletin.status is BulletinStatus.IN_REVIEW
        assert bulletin.severity is Severity.SEVERE
        assert bulletin.title == "Cyclone signal 7 for Cox's Bazar and Teknaf (sample)"
        assert bulletin.body == (
            "A severe cyclonic storm is expected to cross the coast on the evening of "
            "26 November.\n"
            "Winds of 90-110 km/h \\& a storm surge of 1-2 m are likely in low-lying areas.\n"
        )
        # The instruction, category, urgency, certainty and contact are kept apart, as sent.
        assert bulletin.instruction == (
            "\\* Move to the nearest cyclone shelter if you live in a low-lying block.\n"
            "\\* Take your documents, drinking water and medicines.\n"
            "Call 999 if you need help to move."
        )
        assert (bulletin.cap_categories, bulletin.cap_urgency, bulletin.cap_certainty) == (
            "Met",
            "Expected",
            "Likely",
        )
        assert bulletin.contact == "Sample DMO control room, +44 7700 900123"
        assert bulletin.source_name == "Sample Disaster Management Office"
        assert bulletin.source_url == "https://example.org/alerts/cyclone-2026-11"
        assert bulletin.source_locale == "en"
        assert bulletin.issued_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
        assert bulletin.expires_at == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
        assert (bulletin.cap_identifier, bulletin.cap_sender) == (ALERT_ID, SENDER)
        assert bulletin.cap_references is None
        assert bulletin.updated_at == NOW
        assert slugs(bulletin) == {"cox-s-bazar", "teknaf"}
        assert not bulletin.is_current(NOW)
        rows = translations_of(session, bulletin)
        assert set(rows) == {("bn", "title"), ("bn", "body"), ("bn", "instruction")}
        title, body = rows["bn", "title"], rows["bn", "body"]
        assert title.text == "কক্সবাজার ও টেকনাফের জন্য ৭ নম্বর বিপদ সংকেত (নমুনা)"  # noqa: RUF001
        assert body.text.endswith("উপকূল অতিক্রম করতে পারে।")
        assert rows["bn", "instruction"].text == "নিচু এলাকায় থাকলে নিকটস্থ আশ্রয়কেন্দ্রে যান।"
        assert title.source_digest == source_digest(bulletin.title)
        assert body.source_digest == source_digest(bulletin.body)
        assert {row.status for row in rows.values()} == {TranslationStatus.REVIEWED}
        assert {row.updated_at for row in rows.values()} == {NOW}


def test_an_import_can_publish_at_once(database: db.Database, regions: None) -> None:
    run_import(database, fixture("cyclone-alert"), publish=True)
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.status is BulletinStatus.PUBLISHED
        assert bulletin.is_current(NOW)


@pytest.mark.parametrize("status", ["Test", "Exercise", "System", "Draft"])
def test_alerts_that_are_not_actual_are_skipped(
    database: db.Database, regions: None, status: str
) -> None:
    document = edit(fixture("cyclone-alert"), "<status>Actual", f"<status>{status}")
    report = run_import(database, document, publish=True)
    reason = f"status {status}: only Actual alerts are imported"
    assert report.skipped == [SkippedAlert(ALERT_ID, reason)]
    assert report.created == 0
    with database.session() as session:
        assert all_bulletins(session) == []


def test_restricted_alerts_are_not_made_public(database: db.Database, regions: None) -> None:
    document = edit(fixture("cyclone-alert"), "<scope>Public", "<scope>Restricted")
    report = run_import(database, document, publish=True)
    assert report.skipped == [
        SkippedAlert(ALERT_ID, "scope Restricted: only Public alerts are imported")
    ]


def test_an_alert_for_no_known_region_is_skipped(database: db.Database, regions: None) -> None:
    document = edit(fixture("cyclone-alert"), "Cox's Bazar</areaDesc>", "Chattogram</areaDesc>")
    document = edit(document, "Teknaf</areaDesc>", "Bandarban</areaDesc>")
    report = run_import(database, document)
    assert report.skipped == [SkippedAlert(ALERT_ID, "no matching region")]


def test_regions_match_by_slug_or_name_ignoring_case(database: db.Database, regions: None) -> None:
    document = edit(fixture("cyclone-alert"), "Cox's Bazar</areaDesc>", "COX-S-BAZAR</areaDesc>")
    document = edit(document, "Teknaf</areaDesc>", "Bandarban</areaDesc>")
    run_import(database, document)
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert slugs(bulletin) == {"cox-s-bazar"}


def test_regions_chosen_by_the_importer_win(database: db.Database, regions: None) -> None:
    run_import(database, fixture("cyclone-alert"), region_slugs=["teknaf"])
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert slugs(bulletin) == {"teknaf"}


def test_cap_text_cannot_inject_links_html_or_unsafe_urls(
    database: db.Database, regions: None
) -> None:
    hostile = (
        "[Get aid here](javascript:alert(1)) <script>alert(1)</script> **now**\n"
        "# Urgent\n<img src=x onerror=alert(1)>\n    indented code\n---\n![x](https://evil.example/x.png)"
    )
    escaped_xml = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    document = re.sub(
        rb"<description>[^<]*</description>",
        f"<description>{escaped_xml}</description>".encode(),
        fixture("cyclone-alert"),
        count=1,
    )
    document = edit(document, "https://example.org/alerts/cyclone-2026-11", "javascript:alert(1)")
    run_import(database, document, publish=True)
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert set(HTML_TAG.findall(MARKDOWN.render(bulletin.body))) == {"p"}
        assert set(HTML_TAG.findall(markup.render(bulletin.body))) == {"p"}
        assert markup.plain_text(bulletin.body).startswith(hostile.split("\n", 1)[0])
        assert unescape_markdown(bulletin.body).startswith(
            "[Get aid here](javascript:alert(1)) <script>alert(1)</script> **now**\n# Urgent\n"
        )
        assert bulletin.source_url is None


def test_an_update_without_publish_leaves_the_live_alert_until_a_reviewer_approves(
    database: db.Database, regions: None
) -> None:
    # Issue 18, case 3: the update used to take the live alert off the public site.
    run_import(database, fixture("cyclone-alert"), publish=True)
    later = NOW + timedelta(hours=20)
    report = run_import(database, fixture("cyclone-update"), now=later)
    assert (report.created, report.updated, report.skipped) == (0, 1, [])
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.status is BulletinStatus.PUBLISHED
        assert bulletin.is_current(later)
        assert bulletin.title == "Cyclone signal 7 for Cox's Bazar and Teknaf (sample)"
        assert bulletin.severity is Severity.SEVERE
        bengali = translations_of(session, bulletin)["bn", "title"]
        assert not bengali.is_stale(bulletin.title)
        (waiting,) = drafts.pending(session, BULLETIN, bulletin.id)
        assert waiting.origin == "cap"
        assert waiting.form["title"] == (
            "Great danger signal 10 for Cox's Bazar and Teknaf (sample)"
        )
        drafts.approve(session, waiting, uuid.uuid4(), later + timedelta(minutes=5))
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.status is BulletinStatus.PUBLISHED
        assert bulletin.title == "Great danger signal 10 for Cox's Bazar and Teknaf (sample)"
        assert bulletin.severity is Severity.EXTREME
        assert bulletin.origin == "cap"
        assert bulletin.cap_identifier == UPDATE_ID


def test_an_update_of_an_alert_waiting_for_review_changes_it_in_the_queue(
    database: db.Database, regions: None
) -> None:
    run_import(database, fixture("cyclone-alert"))
    later = NOW + timedelta(hours=20)
    report = run_import(database, fixture("cyclone-update"), now=later)
    assert (report.created, report.updated, report.skipped) == (0, 1, [])
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.id == cap_bulletin_id(SENDER, ALERT_ID)
        assert bulletin.title == "Great danger signal 10 for Cox's Bazar and Teknaf (sample)"
        assert bulletin.severity is Severity.EXTREME
        assert bulletin.issued_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        assert bulletin.expires_at == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
        assert bulletin.cap_identifier == UPDATE_ID
        assert bulletin.cap_references == f"{SENDER},{ALERT_ID},2026-11-25T06:00:00+00:00"
        # Changed text goes back to review unless the import is told to publish.
        assert bulletin.status is BulletinStatus.IN_REVIEW
        assert bulletin.updated_at == later
        # The issuer's Bengali text was for the first version: now stale.
        bengali_title = translations_of(session, bulletin)["bn", "title"]
        assert bengali_title.is_stale(bulletin.title)


def test_an_update_of_an_alert_never_seen_creates_a_bulletin(
    database: db.Database, regions: None
) -> None:
    report = run_import(database, fixture("cyclone-update"))
    assert report.created == 1
    late_original = run_import(database, fixture("cyclone-alert"))
    assert late_original.skipped == [SkippedAlert(ALERT_ID, "superseded by a later update")]
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.id == cap_bulletin_id(SENDER, UPDATE_ID)
        assert bulletin.severity is Severity.EXTREME


def test_an_update_arriving_after_a_newer_one_is_skipped(
    database: db.Database, regions: None
) -> None:
    newer = edit(fixture("cyclone-update"), UPDATE_ID, "SAMPLE-DMO-2026-11-25-004")
    newer = edit(newer, "2026-11-26T06:00:00+06:00</sent>", "2026-11-26T09:00:00+06:00</sent>")
    newer = edit(newer, "<severity>Extreme", "<severity>Moderate")
    run_import(database, fixture("cyclone-alert"), newer)
    report = run_import(database, fixture("cyclone-update"))
    assert report.skipped == [SkippedAlert(UPDATE_ID, "older than the stored version")]
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.severity is Severity.MODERATE
        assert bulletin.cap_identifier == "SAMPLE-DMO-2026-11-25-004"


def test_a_chain_of_updates_keeps_one_bulletin_and_its_history(
    database: db.Database, regions: None
) -> None:
    third = edit(fixture("cyclone-update"), UPDATE_ID, "SAMPLE-DMO-2026-11-25-004")
    third = edit(third, "2026-11-26T06:00:00+06:00</sent>", "2026-11-26T09:00:00+06:00</sent>")
    third = edit(
        third, f"{ALERT_ID},2026-11-25T12:00:00+06:00", f"{UPDATE_ID},2026-11-26T06:00:00+06:00"
    )
    documents = (fixture("cyclone-alert"), fixture("cyclone-update"), third)
    first = run_import(database, *documents)
    assert (first.created, first.updated) == (1, 2)
    before = snapshot(database)
    again = run_import(database, *documents, now=NOW + timedelta(days=1))
    assert (again.updated, again.unchanged, len(again.skipped)) == (0, 1, 2)
    assert snapshot(database) == before
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.cap_identifier == "SAMPLE-DMO-2026-11-25-004"
        assert bulletin.cap_references == (
            f"{SENDER},{ALERT_ID},2026-11-25T06:00:00+00:00 "
            f"{SENDER},{UPDATE_ID},2026-11-26T00:00:00+00:00"
        )


def test_importing_the_same_documents_again_changes_nothing(
    database: db.Database, regions: None
) -> None:
    documents = (fixture("cyclone-alert"), fixture("cyclone-update"))
    first = run_import(database, *documents, publish=True)
    assert (first.created, first.updated, first.unchanged) == (1, 1, 0)
    before = snapshot(database)
    again = run_import(database, *documents, publish=True, now=NOW + timedelta(days=1))
    assert (again.created, again.updated, again.cancelled, again.unchanged) == (0, 0, 0, 1)
    assert again.skipped == [SkippedAlert(ALERT_ID, "superseded by a later update")]
    assert snapshot(database) == before


def test_a_reimport_leaves_a_reviewed_and_published_bulletin_published(
    database: db.Database, regions: None
) -> None:
    run_import(database, fixture("cyclone-alert"))
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        bulletin.status = BulletinStatus.PUBLISHED
    before = snapshot(database)
    report = run_import(database, fixture("cyclone-alert"), now=NOW + timedelta(hours=1))
    assert (report.updated, report.unchanged) == (0, 1)
    assert snapshot(database) == before


def test_a_cancel_retracts_what_it_refers_to(database: db.Database, regions: None) -> None:
    run_import(database, fixture("cyclone-alert"), fixture("cyclone-update"), publish=True)
    later = NOW + timedelta(days=2)
    report = run_import(database, fixture("cyclone-cancel"), now=later)
    assert (report.cancelled, report.skipped) == (1, [])
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.status is BulletinStatus.RETRACTED
        assert bulletin.updated_at == later
    before = snapshot(database)
    again = run_import(database, *map(fixture, FIXTURE_NAMES), publish=True, now=later)
    assert (again.created, again.updated, again.cancelled, again.unchanged) == (0, 0, 0, 1)
    assert snapshot(database) == before


def test_a_cancel_listed_before_its_alert_still_applies(
    database: db.Database, regions: None
) -> None:
    run_import(database, feed(fixture("cyclone-cancel"), fixture("cyclone-alert")), publish=True)
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.status is BulletinStatus.RETRACTED


def test_an_update_after_a_cancel_does_not_revive_the_alert(
    database: db.Database, regions: None
) -> None:
    cancel_first = edit(fixture("cyclone-cancel"), f" {SENDER},{UPDATE_ID},", " x,y,")
    run_import(database, fixture("cyclone-alert"), publish=True)
    run_import(database, cancel_first)
    report = run_import(database, fixture("cyclone-update"), publish=True)
    assert report.skipped == [SkippedAlert(UPDATE_ID, "cancelled earlier")]


def test_another_sender_can_neither_cancel_nor_overwrite_an_alert(
    database: db.Database, regions: None
) -> None:
    run_import(database, fixture("cyclone-alert"), publish=True)
    (before,) = snapshot(database)[:1]
    impostor = "<sender>impostor@example.net</sender>"
    cancel = edit(fixture("cyclone-cancel"), f"<sender>{SENDER}</sender>", impostor)
    same_identifier = edit(fixture("cyclone-alert"), f"<sender>{SENDER}</sender>", impostor)
    same_identifier = edit(same_identifier, "Cyclone signal 7", "All clear")
    report = run_import(database, cancel, same_identifier, now=NOW + timedelta(hours=1))
    assert report.skipped == [
        SkippedAlert("SAMPLE-DMO-2026-11-25-003", "nothing from this sender to cancel")
    ]
    assert (report.created, report.updated, report.cancelled) == (1, 0, 0)
    # The original is untouched, column for column; the other sender's alert is its own bulletin.
    assert before in snapshot(database)
    with database.session() as session:
        copy = session.get(Bulletin, cap_bulletin_id("impostor@example.net", ALERT_ID))
        assert copy is not None
        assert (copy.cap_identifier, copy.status) == (ALERT_ID, BulletinStatus.IN_REVIEW)
        assert copy.title.startswith("All clear")


def test_one_identifier_from_two_senders_imports_as_two_bulletins(
    database: db.Database, regions: None
) -> None:
    other = "other-office@example.net"
    theirs = edit(fixture("cyclone-alert"), SENDER, other)
    theirs = edit(theirs, "Cyclone signal 7", "Flood warning")
    first = run_import(database, fixture("cyclone-alert"), theirs)
    assert (first.created, first.skipped) == (2, [])
    with database.session() as session:
        bulletins = {(b.cap_sender, b.cap_identifier): b for b in all_bulletins(session)}
        assert set(bulletins) == {(SENDER, ALERT_ID), (other, ALERT_ID)}
        assert bulletins[SENDER, ALERT_ID].id == cap_bulletin_id(SENDER, ALERT_ID)
        assert bulletins[other, ALERT_ID].id == cap_bulletin_id(other, ALERT_ID)
        assert bulletins[other, ALERT_ID].title.startswith("Flood warning")
    # Each sender's messages find that sender's bulletin, never the other's.
    again = run_import(database, fixture("cyclone-alert"), theirs, now=NOW + timedelta(hours=1))
    assert (again.created, again.updated, again.unchanged, again.skipped) == (0, 0, 2, [])
    update = edit(fixture("cyclone-update"), SENDER, other)
    later = run_import(database, update, now=NOW + timedelta(hours=20))
    assert (later.created, later.updated, later.skipped) == (0, 1, [])
    with database.session() as session:
        mine = session.get(Bulletin, cap_bulletin_id(SENDER, ALERT_ID))
        updated = session.get(Bulletin, cap_bulletin_id(other, ALERT_ID))
        assert mine is not None
        assert updated is not None
        assert (mine.cap_identifier, mine.severity) == (ALERT_ID, Severity.SEVERE)
        assert updated.cap_identifier == UPDATE_ID
        assert updated.title.startswith("Great danger signal 10")


def test_another_senders_update_cannot_block_the_real_alert(
    database: db.Database, regions: None
) -> None:
    impostor = edit(fixture("cyclone-update"), f"<sender>{SENDER}</sender>", "<sender>x@y</sender>")
    run_import(database, impostor)
    report = run_import(database, fixture("cyclone-alert"))
    assert (report.created, report.skipped) == (1, [])
    with database.session() as session:
        assert {b.cap_sender for b in all_bulletins(session)} == {SENDER, "x@y"}
        assert {b.cap_references for b in all_bulletins(session)} == {None}


def test_an_alert_without_text_is_skipped(database: db.Database, regions: None) -> None:
    document = re.sub(rb"<info>.*</info>", b"", fixture("cyclone-alert"), flags=re.DOTALL)
    report = run_import(database, document)
    assert report.skipped == [SkippedAlert(ALERT_ID, "no <info> with a <headline> or <event>")]


def test_a_bulletin_kept_elsewhere_is_not_overwritten(database: db.Database, regions: None) -> None:
    with database.session() as session:
        session.add(
            sample_bulletin(
                id="portal-cyclone",
                origin="portal",
                cap_identifier=ALERT_ID,
                cap_sender=SENDER,
                regions=[],
            )
        )
    report = run_import(database, fixture("cyclone-alert"), publish=True)
    reason = "bulletin portal-cyclone is kept by portal, not by CAP imports"
    assert report.skipped == [SkippedAlert(ALERT_ID, reason)]
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.title == "Flash floods along the Naf river (sample)"


def test_an_overlong_headline_is_shortened_to_fit(database: db.Database, regions: None) -> None:
    document = edit(fixture("cyclone-update"), "Great danger signal 10", "Danger " * 60)
    run_import(database, document)
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert len(bulletin.title) <= 200
        assert bulletin.title.endswith("…")


# Export


# The element sequences of the CAP 1.2 schema (alert, info and area), in order.
ALERT_CHILDREN = [
    *("identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction"),
    *("addresses", "code", "note", "references", "incidents", "info"),
]
INFO_CHILDREN = [
    *("language", "category", "event", "responseType", "urgency", "severity", "certainty"),
    *("audience", "eventCode", "effective", "onset", "expires", "senderName", "headline"),
    *("description", "instruction", "web", "contact", "parameter", "resource", "area"),
]
AREA_CHILDREN = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"]
CAP_VALUES = {
    "status": {"Actual", "Exercise", "System", "Test", "Draft"},
    "msgType": {"Alert", "Update", "Cancel", "Ack", "Error"},
    "scope": {"Public", "Restricted", "Private"},
    "category": {
        *("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport"),
        *("Infra", "CBRNE", "Other"),
    },
    "urgency": {"Immediate", "Expected", "Future", "Past", "Unknown"},
    "severity": {"Extreme", "Severe", "Moderate", "Minor", "Unknown"},
    "certainty": {"Observed", "Likely", "Possible", "Unlikely", "Unknown"},
}


def check_children(
    element: Element, order: list[str], required: set[str], repeatable: set[str]
) -> list[str]:
    """Assert the children follow the CAP 1.2 schema's sequence; return their names."""
    names = []
    for child in element:
        namespace, _, name = child.tag[1:].partition("}")
        assert namespace == CAP_NAMESPACE
        assert name in order, f"<{name}> is not allowed in <{element.tag}>"
        names.append(name)
        if name in CAP_VALUES:
            assert child.text in CAP_VALUES[name]
        if name in {"sent", "effective", "onset", "expires"}:
            assert CAP_DATETIME.match(child.text or "")
    positions = [order.index(name) for name in names]
    assert positions == sorted(positions), names
    assert required <= set(names)
    assert all(names.count(name) == 1 for name in set(names) - repeatable)
    return names


def assert_valid_cap(document: bytes) -> Element:
    """Assert a document is a CAP 1.2 alert whose structure the schema accepts."""
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root: Element = safe_xml.fromstring(document, forbid_dtd=True)
    assert root.tag == f"{{{CAP_NAMESPACE}}}alert"
    required = {"identifier", "sender", "sent", "status", "msgType", "scope"}
    check_children(root, ALERT_CHILDREN, required, {"code", "info"})
    for name in ("identifier", "sender"):
        assert re.fullmatch(r"[^\s,<&]+", root.findtext(f"{{{CAP_NAMESPACE}}}{name}") or "")
    for triple in (root.findtext(f"{{{CAP_NAMESPACE}}}references") or "").split():
        assert CAP_DATETIME.match(triple.split(",")[2])
    for info in root.iter(f"{{{CAP_NAMESPACE}}}info"):
        required = {"category", "event", "urgency", "severity", "certainty"}
        repeatable = {"category", "responseType", "eventCode", "parameter", "resource", "area"}
        check_children(info, INFO_CHILDREN, required, repeatable)
        for area in info.iter(f"{{{CAP_NAMESPACE}}}area"):
            check_children(area, AREA_CHILDREN, {"areaDesc"}, {"polygon", "circle", "geocode"})
    return root


def sample_bulletin(**overrides: Any) -> Bulletin:
    """A flood alert as another Refuge instance holds it (never added to this database)."""
    values: dict[str, Any] = {
        "id": "sample-teknaf-flood-2026-11",
        "kind": BulletinKind.ALERT,
        "status": BulletinStatus.PUBLISHED,
        "severity": Severity.SEVERE,
        "title": "Flash floods along the Naf river (sample)",
        "body": "Water is rising in low blocks.\n\n"
        "\\- Move to higher ground \\& keep children away from the water.\n",
        "source_name": "Sample Disaster Management Office",
        "source_url": "https://example.org/floods",
        "source_locale": "en",
        "issued_at": datetime(2026, 11, 25, 7, 30, tzinfo=UTC),
        "expires_at": datetime(2026, 11, 26, 7, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 25, 7, 30, tzinfo=UTC),
        "regions": [new_region("teknaf", "Teknaf"), new_region("cox-s-bazar", "Cox's Bazar")],
    }
    values.update(overrides)
    return Bulletin(**values)


BENGALI = {"bn": {"title": "নাফ নদীতে আকস্মিক বন্যা (নমুনা)", "body": "নিচু ব্লকে পানি বাড়ছে।"}}


def cap(element: Element, path: str) -> str | None:
    return element.findtext("/".join(f"{{{CAP_NAMESPACE}}}{part}" for part in path.split("/")))


def test_an_exported_alert_is_valid_cap_1_2() -> None:
    document = export_cap_alert(sample_bulletin(), sender=REFUGE, translations=BENGALI)
    root = assert_valid_cap(document)
    assert cap(root, "identifier") == "refuge-sample-teknaf-flood-2026-11"
    assert cap(root, "sent") == "2026-11-25T07:30:00-00:00"
    assert (cap(root, "msgType"), cap(root, "status"), cap(root, "scope")) == (
        "Alert",
        "Actual",
        "Public",
    )
    english, bengali = root.findall(f"{{{CAP_NAMESPACE}}}info")
    assert cap(english, "language") == "en"
    assert cap(english, "severity") == "Severe"
    assert cap(english, "expires") == "2026-11-26T07:30:00-00:00"
    assert cap(english, "description") == (
        "Water is rising in low blocks.\n\n"
        "- Move to higher ground & keep children away from the water."
    )
    assert [cap(area, "areaDesc") for area in english.findall(f"{{{CAP_NAMESPACE}}}area")] == [
        "Teknaf",
        "Cox's Bazar",
    ]
    assert cap(bengali, "language") == "bn"
    assert cap(bengali, "headline") == BENGALI["bn"]["title"]


def test_cap_times_are_utc_whole_seconds_written_as_minus_zero() -> None:
    # CAP 1.2, 3.3.2: "The timezone for UTC MUST be represented as '-00:00'".
    dhaka = timezone(timedelta(hours=6))
    assert cap_datetime(datetime(2026, 11, 25, 12, 0, 30, 999_999, dhaka)) == (
        "2026-11-25T06:00:30-00:00"
    )
    assert CAP_DATETIME.match(cap_datetime(datetime(999, 1, 1, tzinfo=UTC)))


def test_an_exported_alert_imports_back_as_the_same_bulletin(
    database: db.Database, regions: None
) -> None:
    original = sample_bulletin()
    document = export_cap_alert(original, sender=REFUGE, translations=BENGALI)
    report = run_import(database, document, publish=True)
    assert (report.created, report.skipped) == (1, [])
    with database.session() as session:
        (copy,) = all_bulletins(session)
        for name in (
            "kind",
            "status",
            "title",
            "body",
            "severity",
            "source_name",
            "source_url",
            "source_locale",
            "issued_at",
            "expires_at",
        ):
            assert getattr(copy, name) == getattr(original, name), name
        assert slugs(copy) == {"teknaf", "cox-s-bazar"}
        assert (copy.cap_identifier, copy.cap_sender) == (f"refuge-{original.id}", REFUGE)
        rows = translations_of(session, copy)
        assert rows["bn", "title"].text == BENGALI["bn"]["title"]
        assert rows["bn", "body"].text == BENGALI["bn"]["body"]
        assert not rows["bn", "body"].is_stale(copy.body)


def test_category_urgency_certainty_instruction_and_contact_survive_a_round_trip(
    database: db.Database, regions: None
) -> None:
    run_import(database, fixture("cyclone-alert"), publish=True)
    with database.session() as session:
        (original,) = all_bulletins(session)
        translations = reviewed_translations(session, [original]).get(original.id)
        document = export_cap_alert(original, sender=REFUGE, translations=translations)
    root = assert_valid_cap(document)
    assert cap(root, "sent") == "2026-11-25T06:00:00-00:00"
    english, bengali = root.findall(f"{{{CAP_NAMESPACE}}}info")
    assert [c.text for c in english.findall(f"{{{CAP_NAMESPACE}}}category")] == ["Met"]
    assert (cap(english, "urgency"), cap(english, "certainty")) == ("Expected", "Likely")
    assert cap(english, "expires") == "2026-11-27T06:00:00-00:00"
    assert "Call 999" not in (cap(english, "description") or "")
    assert cap(english, "instruction") == (
        "* Move to the nearest cyclone shelter if you live in a low-lying block.\n"
        "* Take your documents, drinking water and medicines.\n"
        "Call 999 if you need help to move."
    )
    assert cap(english, "contact") == "Sample DMO control room, +44 7700 900123"
    assert cap(bengali, "instruction") == "নিচু এলাকায় থাকলে নিকটস্থ আশ্রয়কেন্দ্রে যান।"
    # Another system importing Refuge's export (another sender) gets the same alert.
    assert run_import(database, document, publish=True).created == 1
    with database.session() as session:
        first, second = all_bulletins(session)
        for name in (
            "title",
            "body",
            "instruction",
            "cap_categories",
            "cap_urgency",
            "cap_certainty",
            "contact",
            "issued_at",
            "expires_at",
        ):
            assert getattr(first, name) == getattr(second, name), name
        assert translations_of(session, second)["bn", "instruction"].text == (
            "নিচু এলাকায় থাকলে নিকটস্থ আশ্রয়কেন্দ্রে যান।"
        )


def test_a_retracted_alert_goes_out_as_a_cancel_that_retracts_it_downstream(
    database: db.Database, regions: None
) -> None:
    original = sample_bulletin()
    run_import(database, export_cap_alert(original, sender=REFUGE), publish=True)
    original.status = BulletinStatus.RETRACTED
    original.updated_at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    document = export_cap_alert(original, sender=REFUGE)
    root = assert_valid_cap(document)
    assert cap(root, "msgType") == "Cancel"
    assert cap(root, "identifier") == f"refuge-{original.id}-cancel"
    assert cap(root, "sent") == "2026-11-25T09:00:00-00:00"
    assert cap(root, "references") == f"{REFUGE},refuge-{original.id},2026-11-25T07:30:00-00:00"
    report = run_import(database, document, now=NOW + timedelta(hours=2))
    assert report.cancelled == 1
    with database.session() as session:
        (copy,) = all_bulletins(session)
        assert copy.status is BulletinStatus.RETRACTED


def test_sample_bulletins_go_out_as_tests_that_receivers_disregard(
    database: db.Database, regions: None
) -> None:
    document = export_cap_alert(sample_bulletin(sample=True), sender=REFUGE)
    assert cap(assert_valid_cap(document), "status") == "Test"
    report = run_import(database, document, publish=True)
    assert report.skipped == [
        SkippedAlert(
            f"refuge-{sample_bulletin().id}", "status Test: only Actual alerts are imported"
        )
    ]


def test_characters_xml_cannot_carry_are_dropped_on_export() -> None:
    bulletin = sample_bulletin(title="Flood\x00 warning\x1b (sample)")
    (alert,) = parse_cap(export_cap_alert(bulletin, sender=REFUGE))
    assert alert.infos[0].headline == "Flood warning (sample)"


@pytest.mark.parametrize(
    ("overrides", "sender", "message"),
    [
        ({"kind": BulletinKind.ADVISORY}, REFUGE, "advisory in status published"),
        ({"status": BulletinStatus.IN_REVIEW}, REFUGE, "alert in status in_review"),
        ({}, "Refuge, sample", "must not contain spaces, commas"),
        ({"cap_identifier": "DMO 42"}, REFUGE, "CAP identifier 'DMO 42' is invalid"),
    ],
)
def test_what_cannot_go_out_as_cap_is_refused(
    overrides: dict[str, Any], sender: str, message: str
) -> None:
    with pytest.raises(CapExportError, match=message):
        export_cap_alert(sample_bulletin(**overrides), sender=sender)


@pytest.fixture
def stored_bulletins(database: db.Database) -> None:
    """Bulletins of every kind and state, one current alert with translations."""
    hour = timedelta(hours=1)
    with database.session() as session:
        variants: dict[str, dict[str, Any]] = {
            "current": {},
            "advisory": {"kind": BulletinKind.ADVISORY},
            "in-review": {"status": BulletinStatus.IN_REVIEW},
            "expired": {"expires_at": NOW - hour},
            "future": {"issued_at": NOW + hour},
            "retracted": {"status": BulletinStatus.RETRACTED, "cap_identifier": "DMO-42"},
        }
        for suffix, overrides in variants.items():
            session.add(sample_bulletin(id=f"flood-{suffix}", regions=[], **overrides))
        session.flush()
        current = session.get_one(Bulletin, "flood-current")
        for locale, field, text, source, status in (
            ("bn", "title", BENGALI["bn"]["title"], current.title, TranslationStatus.REVIEWED),
            ("bn", "body", "পুরনো লেখা", "an older body", TranslationStatus.REVIEWED),
            ("ar", "title", "فيضانات مفاجئة", current.title, TranslationStatus.DRAFT),
        ):
            session.add(
                Translation(
                    entity="bulletin",
                    entity_id=current.id,
                    field=field,
                    locale=locale,
                    text=text,
                    source_digest=source_digest(source),
                    status=status,
                    updated_at=NOW,
                )
            )


def test_a_feed_exports_current_alerts_and_cancels_only(
    database: db.Database, stored_bulletins: None
) -> None:
    with database.session() as session:
        bulletins = all_bulletins(session)
        translations = reviewed_translations(session, bulletins)
        assert translations == {"flood-current": {"bn": {"title": BENGALI["bn"]["title"]}}}
        documents = dict(
            export_cap_many(bulletins, sender=REFUGE, now=NOW, translations=translations)
        )
    assert set(documents) == {"flood-current", "flood-retracted"}
    current = assert_valid_cap(documents["flood-current"])
    english, bengali = current.findall(f"{{{CAP_NAMESPACE}}}info")
    assert cap(english, "description") is not None
    assert cap(bengali, "headline") == BENGALI["bn"]["title"]
    assert cap(bengali, "description") is None
    cancel = assert_valid_cap(documents["flood-retracted"])
    assert cap(cancel, "msgType") == "Cancel"
    assert cap(cancel, "identifier") == "DMO-42-cancel"


def test_the_same_update_read_again_while_waiting_queues_no_second_draft(
    database: db.Database, regions: None
) -> None:
    run_import(database, fixture("cyclone-alert"), publish=True)
    later = NOW + timedelta(hours=20)
    first = run_import(database, fixture("cyclone-update"), now=later)
    again = run_import(database, fixture("cyclone-update"), now=later + timedelta(hours=1))
    assert (first.queued, again.queued) == (1, 0)
    with database.session() as session:
        (bulletin,) = all_bulletins(session)
        assert bulletin.title == "Cyclone signal 7 for Cox's Bazar and Teknaf (sample)"
        assert len(drafts.pending(session, BULLETIN, bulletin.id)) == 1
