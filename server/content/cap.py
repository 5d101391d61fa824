"""CAP 1.2 interchange: read issuers' alerts safely (cap_import makes bulletins of them)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
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
    contact: str | None = None
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
        contact=_text(element, "contact"),
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
