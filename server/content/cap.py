"""CAP 1.2 interchange: read issuers' alerts safely and import them as bulletins for review."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError
from xml.parsers.expat import ErrorString as expat_error

import defusedxml.ElementTree as safe_xml
from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models.bulletins import Bulletin, BulletinKind, BulletinStatus, Severity
from server.models.content import NAME_LENGTH, URL_LENGTH, Region
from server.models.translations import Translation, TranslationStatus, source_digest

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
#: Bulletin.origin of imported alerts: content loads leave them alone, imports touch only them.
ORIGIN = "cap"
#: Larger documents are refused before parsing; real alerts are a few kilobytes.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
STATUSES = frozenset({"Actual", "Exercise", "System", "Test", "Draft"})
MESSAGE_TYPES = frozenset({"Alert", "Update", "Cancel", "Ack", "Error"})
SCOPES = frozenset({"Public", "Restricted", "Private"})
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")

_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")
# CAP forbids spaces, commas, '<' and '&' in identifiers and senders.
_TOKEN = re.compile(r"[^\s,<&]+")
_SAFE_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f<>\"\\]+", re.IGNORECASE)
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>&~|])")
_MARKDOWN_LINE_START = re.compile(r"^([#+=-])")
_MARKDOWN_ORDERED = re.compile(r"^([0-9]{1,9})([.)])")
_MARKDOWN_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


class CapError(ValueError):
    """A document that is not a well-formed, safe CAP 1.2 alert."""


@dataclass(frozen=True)
class CapReference:
    """An earlier alert that a message updates or cancels."""

    sender: str
    identifier: str
    sent: datetime


@dataclass(frozen=True)
class CapArea:
    """The area an info block applies to; shapes are kept as CAP text."""

    description: str
    geocodes: tuple[tuple[str, str], ...] = ()
    polygons: tuple[str, ...] = ()
    circles: tuple[str, ...] = ()


@dataclass(frozen=True)
class CapInfo:
    """One <info> block: the alert's text and timing in one language."""

    language: str
    event: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    categories: tuple[str, ...] = ()
    urgency: str | None = None
    severity: str = "Unknown"
    certainty: str | None = None
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    web: str | None = None
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True)
class CapAlert:
    """One CAP 1.2 <alert> message."""

    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[CapReference, ...] = ()
    infos: tuple[CapInfo, ...] = ()
    note: str | None = None


def _q(name: str) -> str:
    """The qualified tag of a CAP 1.2 element."""
    return f"{{{CAP_NAMESPACE}}}{name}"


def _quote(text: str) -> str:
    """A value quoted for an error message, cut short so a hostile one cannot flood logs."""
    return repr(text) if len(text) <= 80 else repr(text[:80]) + "…"


def parse_cap(data: bytes) -> list[CapAlert]:
    """The alerts of a CAP 1.2 document: one <alert>, or a container (a feed) holding several."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CapError(f"document is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        root = safe_xml.fromstring(data, forbid_dtd=True)
    except DTDForbidden as exc:
        raise CapError("document type declarations (DTDs) are not allowed in CAP") from exc
    except (EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise CapError("entities and external references are not allowed in CAP") from exc
    except DefusedXmlException as exc:
        raise CapError(f"unsafe XML: {exc}") from exc
    except ParseError as exc:
        (line, column), reason = exc.position, expat_error(exc.code)
        raise CapError(f"malformed XML at line {line}, column {column}: {reason}") from exc
    except (ValueError, LookupError) as exc:
        raise CapError(f"unreadable XML: {exc}") from exc
    if root.tag == _q("alert"):
        return [_alert(root)]
    if root.tag.rpartition("}")[2] == "alert":
        namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else "none"
        raise CapError(f"<alert> is in namespace {_quote(namespace)}, expected {CAP_NAMESPACE!r}")
    alerts = [_alert(element) for element in root.iter(_q("alert"))]
    if not alerts:
        raise CapError(f"no CAP 1.2 <alert> found; the root element is {_quote(root.tag)}")
    return alerts


def _text(parent: Element, name: str) -> str | None:
    """The stripped text of a direct CAP child element, or None when absent or empty."""
    child = parent.find(_q(name))
    value = (child.text or "").strip() if child is not None else ""
    return value or None


def _required(parent: Element, name: str, where: str) -> str:
    """The text of a required element."""
    value = _text(parent, name)
    if value is None:
        raise CapError(f"{where} is missing <{name}>")
    return value


def _token(parent: Element, name: str, where: str) -> str:
    """An identifier or sender: required, without spaces, commas, '<' or '&'."""
    value = _required(parent, name, where)
    if not _TOKEN.fullmatch(value):
        raise CapError(f"{where}: <{name}> must not contain spaces, commas, '<' or '&'")
    return value


def _choice(parent: Element, name: str, allowed: frozenset[str], where: str) -> str:
    """A required element whose value is one of CAP's enumerated words."""
    value = _required(parent, name, where)
    if value not in allowed:
        raise CapError(
            f"{where}: <{name}> {_quote(value)} is not one of {', '.join(sorted(allowed))}"
        )
    return value


def _datetime(text: str, where: str) -> datetime:
    """A CAP date-time (with its UTC offset) as an aware UTC datetime."""
    if _DATETIME.fullmatch(text):
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except (ValueError, OverflowError):
            pass
    raise CapError(f"{where}: {_quote(text)} is not a date-time with a UTC offset")


def _optional_datetime(parent: Element, name: str, where: str) -> datetime | None:
    """An optional date-time element."""
    value = _text(parent, name)
    return None if value is None else _datetime(value, f"{where} <{name}>")


def _alert(element: Element) -> CapAlert:
    """One <alert> element as a CapAlert."""
    identifier = _token(element, "identifier", "alert")
    where = f"alert {_quote(identifier)}"
    references = []
    for triple in (_text(element, "references") or "").split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts):
            raise CapError(f"{where}: reference {_quote(triple)} is not 'sender,identifier,sent'")
        sent = _datetime(parts[2], f"{where} <references>")
        references.append(CapReference(parts[0], parts[1], sent))
    infos = element.findall(_q("info"))
    return CapAlert(
        identifier=identifier,
        sender=_token(element, "sender", where),
        sent=_datetime(_required(element, "sent", where), f"{where} <sent>"),
        status=_choice(element, "status", STATUSES, where),
        msg_type=_choice(element, "msgType", MESSAGE_TYPES, where),
        scope=_choice(element, "scope", SCOPES, where),
        references=tuple(references),
        infos=tuple(_info(info, f"{where} info {n}") for n, info in enumerate(infos, 1)),
        note=_text(element, "note"),
    )


def _info(element: Element, where: str) -> CapInfo:
    """One <info> block as a CapInfo."""
    language = _text(element, "language") or "en-US"
    if not _LANGUAGE.fullmatch(language):
        raise CapError(f"{where}: <language> {_quote(language)} is not a language tag")
    severity = _text(element, "severity")
    return CapInfo(
        language=re.split(r"[-_]", language)[0].lower(),
        event=_text(element, "event"),
        headline=_text(element, "headline"),
        description=_text(element, "description"),
        instruction=_text(element, "instruction"),
        categories=tuple((c.text or "").strip() for c in element.findall(_q("category"))),
        urgency=_text(element, "urgency"),
        severity=severity if severity in SEVERITIES else "Unknown",
        certainty=_text(element, "certainty"),
        effective=_optional_datetime(element, "effective", where),
        onset=_optional_datetime(element, "onset", where),
        expires=_optional_datetime(element, "expires", where),
        sender_name=_text(element, "senderName"),
        web=_text(element, "web"),
        areas=tuple(_area(area) for area in element.findall(_q("area"))),
    )


def _area(element: Element) -> CapArea:
    """One <area> block as a CapArea."""
    geocodes = []
    for geocode in element.findall(_q("geocode")):
        name, value = _text(geocode, "valueName"), _text(geocode, "value")
        if name and value:
            geocodes.append((name, value))
    return CapArea(
        description=" ".join((_text(element, "areaDesc") or "").split()),
        geocodes=tuple(geocodes),
        polygons=tuple((p.text or "").strip() for p in element.findall(_q("polygon"))),
        circles=tuple((c.text or "").strip() for c in element.findall(_q("circle"))),
    )


def escape_markdown(text: str) -> str:
    """Plain text as Markdown that renders as exactly that text: no links, HTML or formatting."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _MARKDOWN_INLINE.sub(r"\\\1", raw.strip())
        line = _MARKDOWN_ORDERED.sub(r"\1\\\2", _MARKDOWN_LINE_START.sub(r"\\\1", line))
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip("\n")


def unescape_markdown(text: str) -> str:
    """Markdown with its backslash escapes removed: the plain text escape_markdown was given."""
    return _MARKDOWN_ESCAPED.sub(r"\1", text)


def cap_bulletin_id(sender: str, identifier: str) -> str:
    """The stable id of the bulletin made from a sender's CAP alert."""
    digest = hashlib.sha256(f"{sender}\n{identifier}".encode()).hexdigest()
    return f"cap-{digest[:16]}"


@dataclass(frozen=True)
class SkippedAlert:
    """An alert left out of an import, and why."""

    identifier: str
    reason: str


@dataclass
class CapImportReport:
    """What an import did: bulletins created, updated, retracted or left as they were."""

    created: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0
    skipped: list[SkippedAlert] = field(default_factory=list)


class _Skipped(Exception):
    """An alert that this import leaves out, with the reason."""


@dataclass
class _Import:
    """One import's session, choices and running report."""

    session: Session
    regions: list[Region] | None
    publish: bool
    now: datetime
    report: CapImportReport


def import_cap(
    session: Session,
    alerts: Iterable[CapAlert],
    *,
    regions: list[Region] | None,
    publish: bool = False,
    now: datetime,
) -> CapImportReport:
    """Create, update or retract bulletins from Actual, Public CAP alerts, oldest first."""
    run = _Import(session, regions, publish, now, CapImportReport())
    for alert in sorted(alerts, key=lambda alert: alert.sent):
        try:
            _check_importable(alert)
            if alert.msg_type == "Cancel":
                _cancel(run, alert)
            else:
                _upsert(run, alert)
        except _Skipped as skipped:
            run.report.skipped.append(SkippedAlert(alert.identifier, str(skipped)))
    session.flush()
    return run.report


def _check_importable(alert: CapAlert) -> None:
    """Skip alerts that are not for the public, not real, or not about an alert's life."""
    if alert.status != "Actual":
        raise _Skipped(f"status {alert.status}: only Actual alerts are imported")
    if alert.scope != "Public":
        raise _Skipped(f"scope {alert.scope}: only Public alerts are imported")
    if alert.msg_type not in {"Alert", "Update", "Cancel"}:
        raise _Skipped(f"msgType {alert.msg_type} is not imported")
    if max(len(alert.identifier), len(alert.sender)) > URL_LENGTH:
        raise _Skipped(f"identifier or sender longer than {URL_LENGTH} characters")


def _triple(sender: str, identifier: str, sent: datetime) -> str:
    """A CAP reference "sender,identifier,sent", its time in UTC."""
    return f"{sender},{identifier},{sent.astimezone(UTC).replace(tzinfo=None).isoformat()}+00:00"


def _by_identifier(session: Session, identifier: str) -> Bulletin | None:
    """The bulletin carrying this CAP identifier, whoever sent it."""
    query = select(Bulletin).where(Bulletin.cap_identifier == identifier)
    return session.scalars(query).first()


def _superseding(session: Session, sender: str, identifier: str) -> Bulletin | None:
    """The bulletin that already took in a later message replacing this alert."""
    needle = f"{sender},{identifier},"
    query = select(Bulletin).where(Bulletin.cap_references.contains(needle, autoescape=True))
    for bulletin in session.scalars(query):
        triples = (triple.split(",") for triple in (bulletin.cap_references or "").split())
        if bulletin.cap_sender == sender and [sender, identifier] in (t[:2] for t in triples):
            return bulletin
    return None


def _referenced(session: Session, alert: CapAlert) -> list[Bulletin]:
    """The bulletins of the sender's own earlier alerts that a message refers to, newest first."""
    found: list[Bulletin] = []
    for ref in sorted(alert.references, key=lambda ref: ref.sent, reverse=True):
        if ref.sender != alert.sender:
            continue  # only an alert's own sender may update or cancel it
        bulletin = _by_identifier(session, ref.identifier)
        if bulletin is None or bulletin.cap_sender != ref.sender:
            bulletin = _superseding(session, ref.sender, ref.identifier)
        if bulletin is not None and bulletin not in found:
            found.append(bulletin)
    return found


def _cancel(run: _Import, alert: CapAlert) -> None:
    """Retract the bulletins a Cancel message refers to, whoever keeps them."""
    targets = _referenced(run.session, alert)
    if not targets:
        raise _Skipped("nothing from this sender to cancel")
    retracted = [b for b in targets if b.status is not BulletinStatus.RETRACTED]
    for bulletin in retracted:
        bulletin.status = BulletinStatus.RETRACTED
        bulletin.updated_at = run.now
    run.report.cancelled += len(retracted)
    run.report.unchanged += not retracted


def _existing(session: Session, alert: CapAlert) -> Bulletin | None:
    """The bulletin an Alert or Update rewrites, or None when it makes a new one."""
    bulletin = _by_identifier(session, alert.identifier)
    if bulletin is None:
        if _superseding(session, alert.sender, alert.identifier) is not None:
            raise _Skipped("superseded by a later update")
        if alert.msg_type != "Update" or not (referenced := _referenced(session, alert)):
            return None
        bulletin = referenced[0]
    if bulletin.cap_sender != alert.sender:
        raise _Skipped("identifier already used by another sender")
    if bulletin.origin != ORIGIN:
        raise _Skipped(f"bulletin {bulletin.id} is kept by {bulletin.origin}, not by CAP imports")
    if bulletin.status is BulletinStatus.RETRACTED:
        raise _Skipped("cancelled earlier")
    if alert.sent < bulletin.issued_at:
        raise _Skipped("older than the stored version")
    return bulletin


def _upsert(run: _Import, alert: CapAlert) -> None:
    """Create or update the bulletin of an Alert or Update message."""
    info = alert.infos[0] if alert.infos else None
    title = _one_line(info.headline or info.event) if info else ""
    if info is None or not title:
        raise _Skipped("no <info> with a <headline> or <event>")
    regions = run.regions
    if regions is None and not (regions := _matching_regions(run.session, alert)):
        raise _Skipped("no matching region")
    bulletin = _existing(run.session, alert)
    status = BulletinStatus.PUBLISHED if run.publish else BulletinStatus.IN_REVIEW
    # Only the sender's own earlier alerts count as replaced: no one else can supersede them.
    references = [
        _triple(ref.sender, ref.identifier, ref.sent)
        for ref in alert.references
        if ref.sender == alert.sender
    ]
    created = bulletin is None
    if bulletin is None:
        bulletin_id = cap_bulletin_id(alert.sender, alert.identifier)
        if run.session.get(Bulletin, bulletin_id) is not None:
            raise _Skipped(f"bulletin id {bulletin_id} is already in use")
        bulletin = Bulletin(id=bulletin_id, kind=BulletinKind.ALERT, origin=ORIGIN, regions=[])
        bulletin.status, bulletin.updated_at = status, run.now
        run.session.add(bulletin)
        run.report.created += 1
    else:
        # cap_references keeps the bulletin's history: every message it has replaced.
        history = (bulletin.cap_references or "").split()
        if bulletin.cap_identifier and bulletin.cap_identifier != alert.identifier:
            history.append(_triple(alert.sender, bulletin.cap_identifier, bulletin.issued_at))
        references[:0] = history
    changed = set(bulletin.regions) != set(regions)
    if changed:
        bulletin.regions = list(regions)
    values = {
        "title": title,
        "body": _body(info),
        "severity": Severity(info.severity.lower()),
        "source_name": _one_line(info.sender_name or alert.sender),
        "source_url": _safe_url(info.web),
        "source_locale": info.language,
        "issued_at": alert.sent,
        "expires_at": info.expires,
        "cap_identifier": alert.identifier,
        "cap_sender": alert.sender,
        "cap_references": " ".join(dict.fromkeys(references)) or None,
    }
    for name, value in values.items():
        if getattr(bulletin, name) != value:
            setattr(bulletin, name, value)
            changed = True
    changed |= _sync_translations(run, bulletin, alert.infos)
    # New text waits for review unless the import publishes; unchanged text keeps its status.
    if bulletin.status is not status and (changed or run.publish):
        bulletin.status = status
        changed = True
    if changed and not created:
        bulletin.updated_at = run.now
        run.report.updated += 1
    elif not changed:
        run.report.unchanged += 1


def _one_line(text: str | None) -> str:
    """Text on one line, cut to fit a title or name column."""
    line = " ".join((text or "").split())
    return line if len(line) <= NAME_LENGTH else line[: NAME_LENGTH - 1].rstrip() + "…"


def _body(info: CapInfo) -> str:
    """An info block's description and instruction as Markdown that shows them as plain text."""
    parts = (escape_markdown(text) for text in (info.description, info.instruction) if text)
    return "\n\n".join(part for part in parts if part)


def _safe_url(url: str | None) -> str | None:
    """An http(s) link that fits its column, or None: never a javascript: or data: link."""
    if url is None or len(url) > URL_LENGTH or not _SAFE_URL.fullmatch(url):
        return None
    return url


def _matching_regions(session: Session, alert: CapAlert) -> list[Region]:
    """The regions whose slug or name is one of the alert's area descriptions, ignoring case."""
    wanted = {area.description.casefold() for info in alert.infos for area in info.areas}
    wanted.discard("")
    query = select(Region).where(Region.retired.is_(False)).order_by(Region.id)
    return [
        region
        for region in session.scalars(query)
        if region.slug.casefold() in wanted or " ".join(region.name.split()).casefold() in wanted
    ]


def _sync_translations(run: _Import, bulletin: Bulletin, infos: Sequence[CapInfo]) -> bool:
    """Keep the issuer's other languages as reviewed translations; True if any changed."""
    changed = False
    languages = {bulletin.source_locale}
    for info in infos[1:]:
        if info.language in languages:
            continue  # a second block in a language already seen adds nothing to translate
        languages.add(info.language)
        fields = (
            ("title", _one_line(info.headline or info.event), bulletin.title),
            ("body", _body(info), bulletin.body),
        )
        for name, text, source in fields:
            if text:
                changed |= _put_translation(run, bulletin.id, name, info.language, text, source)
    return changed


def _put_translation(
    run: _Import, bulletin_id: str, name: str, locale: str, text: str, source: str
) -> bool:
    """Create or refresh one translated field; True if it changed."""
    key = {"entity": "bulletin", "entity_id": bulletin_id, "field": name, "locale": locale}
    row = run.session.scalars(select(Translation).filter_by(**key)).first()
    if row is None:
        row = Translation(**key)
        run.session.add(row)
    wanted = (text, source_digest(source), TranslationStatus.REVIEWED)
    if (row.text, row.source_digest, row.status) == wanted:
        return False
    row.text, row.source_digest, row.status = wanted
    row.updated_at = run.now
    return True
