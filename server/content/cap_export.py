"""CAP 1.2 export: published alerts, and retractions, as CAP documents for other systems."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

# ElementTree only builds and serialises here; documents are parsed with defusedxml (cap.py).
from xml.etree.ElementTree import Element, SubElement, tostring

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content.cap import CAP_NAMESPACE, unescape_markdown
from server.models.bulletins import Bulletin, BulletinKind, BulletinStatus
from server.models.translations import Translation, TranslationStatus

#: Per locale, the translated fields ("title", "body", "instruction") of one bulletin.
Translations = Mapping[str, Mapping[str, str]]

_EXPORTED = frozenset({BulletinStatus.PUBLISHED, BulletinStatus.RETRACTED})
_SENDER = re.compile(r"[^\s,<&]+")
# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class CapExportError(ValueError):
    """A bulletin or sender that cannot be written as a CAP 1.2 alert."""


def cap_datetime(value: datetime) -> str:
    """A timestamp as CAP 1.2 requires it: UTC as "-00:00" (never "Z"), whole seconds."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "-00:00"


def cap_identifier(bulletin: Bulletin) -> str:
    """The identifier a bulletin's alert goes out with."""
    return bulletin.cap_identifier or f"refuge-{bulletin.id}"


def is_exportable(bulletin: Bulletin) -> bool:
    """A published alert, or a retracted one: receivers must hear that it was cancelled."""
    return bulletin.kind is BulletinKind.ALERT and bulletin.status in _EXPORTED


def export_cap_alert(
    bulletin: Bulletin, *, sender: str, translations: Translations | None = None
) -> bytes:
    """One CAP 1.2 document: an Alert for a published bulletin, a Cancel for a retracted one."""
    if not _SENDER.fullmatch(sender):
        raise CapExportError("a CAP sender must not contain spaces, commas, '<' or '&'")
    if not is_exportable(bulletin):
        raise CapExportError(
            f"bulletin {bulletin.id} is a {bulletin.kind.value} in status "
            f"{bulletin.status.value}: only published or retracted alerts are exported"
        )
    identifier = cap_identifier(bulletin)
    if not _SENDER.fullmatch(identifier):
        raise CapExportError(f"bulletin {bulletin.id}: CAP identifier {identifier!r} is invalid")
    cancel = bulletin.status is BulletinStatus.RETRACTED
    alert = Element(_q("alert"))
    _add(alert, "identifier", f"{identifier}-cancel" if cancel else identifier)
    _add(alert, "sender", sender)
    sent = max(bulletin.updated_at, bulletin.issued_at) if cancel else bulletin.issued_at
    _add(alert, "sent", cap_datetime(sent))
    # Sample (demo) content must never reach another system as a real alert.
    _add(alert, "status", "Test" if bulletin.sample else "Actual")
    _add(alert, "msgType", "Cancel" if cancel else "Alert")
    _add(alert, "scope", "Public")
    if cancel:
        _add(alert, "references", f"{sender},{identifier},{cap_datetime(bulletin.issued_at)}")
    _add_info(alert, bulletin, bulletin.source_locale, dict(_source_fields(bulletin)))
    for locale, fields in sorted((translations or {}).items()):
        if locale != bulletin.source_locale and (fields.get("title") or fields.get("body")):
            # Only the translated text: an untranslated body is in the source language's block.
            _add_info(alert, bulletin, locale, {"title": bulletin.title, **fields})
    document: bytes = tostring(
        alert, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NAMESPACE
    )
    return document


def export_cap_many(
    bulletins: Iterable[Bulletin],
    *,
    sender: str,
    now: datetime,
    translations: Mapping[str, Translations] | None = None,
) -> list[tuple[str, bytes]]:
    """(bulletin id, CAP document) for each exportable bulletin that is issued and unexpired."""
    documents = []
    for bulletin in bulletins:
        expired = bulletin.expires_at is not None and bulletin.expires_at <= now
        if is_exportable(bulletin) and bulletin.issued_at <= now and not expired:
            extra = (translations or {}).get(bulletin.id)
            document = export_cap_alert(bulletin, sender=sender, translations=extra)
            documents.append((bulletin.id, document))
    return documents


def reviewed_translations(
    session: Session, bulletins: Iterable[Bulletin]
) -> dict[str, dict[str, dict[str, str]]]:
    """The reviewed, up-to-date translations of these bulletins, by id, locale and field."""
    by_id = {bulletin.id: bulletin for bulletin in bulletins}
    query = select(Translation).where(
        Translation.entity == "bulletin",
        Translation.entity_id.in_(by_id),
        Translation.status == TranslationStatus.REVIEWED,
        Translation.field.in_(("title", "body", "instruction")),
    )
    found: dict[str, dict[str, dict[str, str]]] = {}
    for row in session.scalars(query):
        bulletin = by_id[row.entity_id]
        if not row.is_stale(dict(_source_fields(bulletin)).get(row.field) or ""):
            found.setdefault(row.entity_id, {}).setdefault(row.locale, {})[row.field] = row.text
    return found


def _q(name: str) -> str:
    """The qualified tag of a CAP 1.2 element."""
    return f"{{{CAP_NAMESPACE}}}{name}"


def _add(parent: Element, name: str, text: str) -> Element:
    """Append a CAP element holding text, without characters XML cannot carry."""
    child = SubElement(parent, _q(name))
    child.text = _NOT_XML.sub("", text)
    return child


def _source_fields(bulletin: Bulletin) -> Iterable[tuple[str, str]]:
    """The bulletin's own translatable texts, by field."""
    yield "title", bulletin.title
    yield "body", bulletin.body
    if bulletin.instruction:
        yield "instruction", bulletin.instruction


def _add_info(alert: Element, bulletin: Bulletin, language: str, fields: Mapping[str, str]) -> None:
    """Append an <info> block in one language, its elements in CAP 1.2 schema order."""
    title = fields["title"]
    info = SubElement(alert, _q("info"))
    _add(info, "language", language)
    # What the issuer said, else "Other": Refuge's own bulletins carry no CAP category.
    for category in (bulletin.cap_categories or "Other").split():
        _add(info, "category", category)
    _add(info, "event", title)
    _add(info, "urgency", bulletin.cap_urgency or "Unknown")
    _add(info, "severity", bulletin.severity.value.capitalize())
    _add(info, "certainty", bulletin.cap_certainty or "Unknown")
    if bulletin.expires_at is not None:
        _add(info, "expires", cap_datetime(bulletin.expires_at))
    _add(info, "senderName", bulletin.source_name)
    _add(info, "headline", title)
    for name in ("description", "instruction"):
        text = unescape_markdown(fields.get("body" if name == "description" else name) or "")
        text = text.strip()
        if text:
            _add(info, name, text)
    if bulletin.source_url:
        _add(info, "web", bulletin.source_url)
    if bulletin.contact:
        _add(info, "contact", bulletin.contact)
    for region in bulletin.regions:
        _add(SubElement(info, _q("area")), "areaDesc", region.name)
