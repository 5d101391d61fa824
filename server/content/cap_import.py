"""CAP 1.2 alerts into bulletins: created, updated or retracted, waiting for review unless the
import publishes. An alert is known by its sender and identifier together; only a sender can
update or cancel its own alerts. Nothing is committed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.content import cap_review
from server.content.cap import ORIGIN, CapAlert, CapInfo, cap_bulletin_id, escape_markdown
from server.models.bulletins import (
    CAP_CATEGORIES,
    CAP_CERTAINTIES,
    CAP_URGENCIES,
    Bulletin,
    BulletinKind,
    BulletinStatus,
    Severity,
)
from server.models.content import NAME_LENGTH, URL_LENGTH, Region
from server.models.translations import Translation, TranslationStatus, source_digest

_SAFE_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f<>\"\\]+", re.IGNORECASE)


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
    #: Changes waiting in the portal's review queue (an import without --publish).
    queued: int = 0
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
    #: Published bulletins as the public saw them, to put back when the import waits for review.
    held: dict[str, cap_review.Held] = field(default_factory=dict)
    #: Bulletins this import changed, to queue for review (unless it publishes).
    queued: dict[str, Bulletin] = field(default_factory=dict)


def import_cap(
    session: Session,
    alerts: Iterable[CapAlert],
    *,
    regions: list[Region] | None,
    publish: bool = False,
    now: datetime,
) -> CapImportReport:
    """Create, update or retract bulletins from Actual, Public CAP alerts, oldest first.

    Without `publish`, what changed waits in the review queue (`server.content.cap_review`)
    and a published bulletin stays as the public saw it until a reviewer approves.
    """
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
    for bulletin_id, bulletin in run.queued.items():
        run.report.queued += cap_review.settle(session, bulletin, run.held.get(bulletin_id), now)
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


def _by_identifier(session: Session, sender: str, identifier: str) -> Bulletin | None:
    """The bulletin carrying this sender's CAP identifier: identifiers are unique per sender."""
    query = select(Bulletin).where(
        Bulletin.cap_sender == sender, Bulletin.cap_identifier == identifier
    )
    return session.scalars(query).one_or_none()


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
        bulletin = _by_identifier(session, ref.sender, ref.identifier)
        if bulletin is None:
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
        # A cancel needs no review: what this import changed before it is dropped with it.
        run.queued.pop(bulletin.id, None)
        held = run.held.pop(bulletin.id, None)
        if held is not None:
            cap_review.restore(run.session, bulletin, held, run.now)
        bulletin.status = BulletinStatus.RETRACTED
        bulletin.updated_at = run.now
    run.report.cancelled += len(retracted)
    run.report.unchanged += not retracted


def _existing(session: Session, alert: CapAlert) -> Bulletin | None:
    """The bulletin an Alert or Update rewrites, or None when it makes a new one."""
    bulletin = _by_identifier(session, alert.sender, alert.identifier)
    if bulletin is None:
        if _superseding(session, alert.sender, alert.identifier) is not None:
            raise _Skipped("superseded by a later update")
        if alert.msg_type != "Update" or not (referenced := _referenced(session, alert)):
            return None
        bulletin = referenced[0]
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
    published = bulletin is not None and bulletin.status is BulletinStatus.PUBLISHED
    if published and not run.publish and bulletin and bulletin.id not in run.held:
        run.held[bulletin.id] = cap_review.hold(run.session, bulletin)
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
        "instruction": _plain(info.instruction) if info.description else None,
        "cap_categories": " ".join(c for c in info.categories if c in CAP_CATEGORIES) or None,
        "cap_urgency": info.urgency if info.urgency in CAP_URGENCIES else None,
        "cap_certainty": info.certainty if info.certainty in CAP_CERTAINTIES else None,
        "contact": _one_line(info.contact) or None,
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
    if changed and not run.publish:
        run.queued[bulletin.id] = bulletin


def _one_line(text: str | None) -> str:
    """Text on one line, cut to fit a title or name column."""
    line = " ".join((text or "").split())
    return line if len(line) <= NAME_LENGTH else line[: NAME_LENGTH - 1].rstrip() + "…"


def _body(info: CapInfo) -> str:
    """An info block's description as Markdown that shows it as plain text, ending as a content
    file's body does (so a content export loads back the same); without a description, its
    instruction (every bulletin has a body)."""
    text = escape_markdown(info.description or info.instruction or "")
    return f"{text}\n" if text else ""


def _plain(text: str | None) -> str | None:
    """An instruction as Markdown showing it as plain text (kept apart from the body)."""
    return (escape_markdown(text) or None) if text else None


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
            ("body", _body(info).rstrip("\n"), bulletin.body),
            (
                "instruction",
                _plain(info.instruction) if info.description else None,
                bulletin.instruction,
            ),
        )
        for name, text, source in fields:
            if text and source:
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
