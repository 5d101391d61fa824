"""Trusted contacts and NGO partners: one opt-in each, their answers, the NGO's line, notes.

Nobody can make Refuge text a stranger more than once: a number that declined, stopped, or
has a request waiting (from anyone) is not asked again, and each person's opt-ins are capped
per day. Only contacts who answered YES are ever alerted (`server.checkins.sweep`). Whoever
adds a number is told the same whatever its past (no oracle): one that may not be asked is
kept as a contact who never answers. A NO outlasts removing the contact and a new set-up.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server import vault
from server.checkins import texts
from server.checkins.kinds import MAX_NAME, Added
from server.checkins.plans import (
    ALERT_LIFETIME,
    PlanState,
    events_of,
    plan_of,
    save,
    settings_of,
    state_of,
)
from server.content.text import fold
from server.db import vault_of
from server.delivery import admission, outbox, provider_copies
from server.models.checkins import CheckinPartner, CheckinPlan, PartnerNoteKey, SealedNote
from server.models.content import Region
from server.models.messaging import Outbox, OutboxKind, OutboxStatus
from server.models.people import Consent, Subscriber, TrustedContact
from server.phones import InvalidPhoneNumber, PhoneNumber, can_receive_texts, normalize_phone

MAX_CONTACTS = 5
#: Opt-in messages one person may cause in a day.
OPT_INS_PER_DAY = 5
OPT_IN_LIFETIME = timedelta(days=2)
#: How often the sweep looks whether a removed contact's closing text has gone.
LEAVING_LOOK = timedelta(hours=1)
#: Outbox states in which a message has not left and never will, or not yet.
NEVER_LEFT = (OutboxStatus.PENDING, OutboxStatus.DROPPED, OutboxStatus.EXPIRED)
UNSETTLED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


def contacts_of(plan: CheckinPlan) -> list[TrustedContact]:
    """The person's own trusted contacts (not their NGO's alert line, nor removed ones still
    owed a closing text), oldest first."""
    ngo, state = settings_of(plan).ngo_contact, state_of(plan)
    gone = set(state.leaving) | set(state.refused)
    return [c for c in plan.subscriber.contacts if c.id.hex != ngo and c.id.hex not in gone]


def shown_contacts(plan: CheckinPlan) -> list[TrustedContact]:
    """The contacts the person is shown: all but those "removed" under duress."""
    hidden = set(state_of(plan).hidden)
    return [c for c in contacts_of(plan) if c.id.hex not in hidden]


def find_contact(session: Session, plan: CheckinPlan, who: str) -> TrustedContact | None:
    """The shown contact with this number, or with this name (in any case or accents)."""
    try:
        indexes = vault_of(session).blind_indexes(normalize_phone(who).e164)
    except InvalidPhoneNumber:
        indexes = ()
    wanted = fold(who)
    for contact in shown_contacts(plan):
        if contact.phone_index in indexes or (wanted and fold(contact.name or "") == wanted):
            return contact
    return None


def remove_contact(
    session: Session, plan: CheckinPlan, contact: TrustedContact, now: datetime
) -> None:
    """Forget a contact for good: no alert, all-clear or request reaches them again.

    Whatever was queued for them and has not left goes at once. A contact an alert reached
    and who has not heard that incident's end gets one closing text (that they need not act,
    nothing more) and is kept out of sight until it has gone; any other goes now, with every
    message kept for them, the provider's copies handed to the worker to delete first.
    """
    gone = contact.id.hex
    if contact.consent in (Consent.DECLINED, Consent.REVOKED):
        # Their NO outlasts the removal: kept out of sight, so that adding them back (or a
        # new set-up) can never ask them again.
        state = state_of(plan)
        state.refused.append(gone)
        settings = settings_of(plan)
        settings.stage_two = [kept for kept in settings.stage_two if kept != gone]
        save(plan, settings=settings, state=state)
        return
    owed = _unended(session, contact)
    session.execute(
        delete(Outbox).where(
            Outbox.contact_id == contact.id,
            Outbox.status == OutboxStatus.PENDING,
            Outbox.provider_sid_ct.is_(None),  # never tried: no copy at the provider
        )
    )
    settings, state = settings_of(plan), state_of(plan)
    settings.stage_two = [kept for kept in settings.stage_two if kept != gone]
    state.alerted = [kept for kept in state.alerted if kept != gone]
    for closed in state.clear:
        closed["to"] = [kept for kept in closed.get("to", []) if kept != gone]
    if owed:
        state.leaving.append(gone)
        save(plan, settings=settings, state=state)
        outbox.enqueue(
            session,
            outbox.Outgoing(
                subscriber=plan.subscriber,
                contact=contact,
                body=texts.closing(plan.subscriber.locale),
                kind=OutboxKind.ALL_CLEAR,
                # Read as that incident's end should the contact be added and removed again.
                cause=outbox.cause(plan.subscriber, "closing", min(owed), gone, incident=min(owed)),
                not_before=now,
                expires_at=now + ALERT_LIFETIME,
            ),
        )
        plan.next_due_at = _sooner(plan.next_due_at, now + LEAVING_LOOK)
        return
    save(plan, settings=settings, state=state)
    _forget(session, plan, contact, now)


def _unended(session: Session, contact: TrustedContact) -> set[str]:
    """The incidents whose alert may have reached the contact and whose end has not."""
    if contact.consent is not Consent.CONFIRMED:
        return set()  # they asked to hear nothing more
    left = session.execute(
        select(Outbox.kind, Outbox.dedupe_key).where(
            Outbox.contact_id == contact.id,
            Outbox.kind.in_((OutboxKind.ALERT, OutboxKind.ALL_CLEAR)),
            Outbox.status.not_in(NEVER_LEFT),
        )
    ).all()
    # Alerts and all-clears (the sweep's) and closing texts (below) carry their incident's
    # opaque tag (`outbox.incident_of`).
    alerted = {outbox.incident_of(cause) for kind, cause in left if kind is OutboxKind.ALERT}
    ended = {outbox.incident_of(cause) for kind, cause in left if kind is OutboxKind.ALL_CLEAR}
    return {tag for tag in alerted - ended if tag is not None}


def _sooner(when: datetime | None, other: datetime) -> datetime:
    return other if when is None else min(when, other)


def _forget(session: Session, plan: CheckinPlan, contact: TrustedContact, now: datetime) -> None:
    provider_copies.hand_over_provider_copies(session, plan.subscriber, now, contact=contact)
    plan.subscriber.contacts.remove(contact)  # delete-orphan: the row goes at the flush
    session.flush()


def forget_left(session: Session, plan: CheckinPlan, state: PlanState, now: datetime) -> None:
    """Forget the removed contacts whose closing text has gone (or never will); the sweep's."""
    by_id = {contact.id.hex: contact for contact in plan.subscriber.contacts}
    for gone in list(state.leaving):
        contact = by_id.get(gone)
        waiting = contact is not None and session.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.contact_id == contact.id, Outbox.status.in_(UNSETTLED))
        )
        if waiting:
            continue
        state.leaving.remove(gone)
        if contact is not None:
            _forget(session, plan, contact, now)


def hide_contact(plan: CheckinPlan, contact: TrustedContact) -> None:
    """Seem to remove a contact (the duress PIN asked for it): still alerted, not shown."""
    state = state_of(plan)
    state.hidden.append(contact.id.hex)
    save(plan, state=state)


def add_contact(
    session: Session,
    plan: CheckinPlan,
    phone: PhoneNumber,
    name: str,
    now: datetime,
    allowed: frozenset[str],
) -> Added:
    """Trust a new contact and queue their one opt-in, unless a rule forbids it.

    A number the worker would never text (outside `allowed`, the deployment's countries, or a
    landline) is refused here, with its reason, rather than accepted and dropped in silence.
    """
    subscriber = plan.subscriber
    keys = vault_of(session)
    # Every index key version: a contact not yet moved by a rotation is still recognised.
    indexes = keys.blind_indexes(phone.e164)
    index = indexes[0]
    mine = contacts_of(plan)
    state = state_of(plan)
    for contact in mine:
        if contact.phone_index in indexes and contact.id.hex in state.hidden:
            # "Removed" under duress, so never gone: it seems added again, and is shown again.
            state.hidden.remove(contact.id.hex)
            save(plan, state=state)
            return Added.ADDED
    for contact in subscriber.contacts:
        if contact.phone_index in indexes and contact.id.hex in state.leaving:
            # Removed, and still owed a closing text: back as the contact who agreed before.
            state.leaving.remove(contact.id.hex)
            save(plan, state=state)
            return Added.ADDED
    if any(contact.phone_index in indexes for contact in subscriber.contacts):
        refused = _refused(subscriber, state, indexes)
        if refused is None:
            return Added.ALREADY
    else:
        refused = None
    if not can_receive_texts(phone.e164):
        return Added.NOT_MOBILE
    if not admission.destination_allowed(allowed, phone.e164):
        return Added.ABROAD
    if len(mine) >= MAX_CONTACTS:
        return Added.FULL
    if subscriber.phone_index in indexes:
        return Added.REFUSED
    if _opt_ins_today(session, plan, state, now) >= OPT_INS_PER_DAY:
        return Added.CAPPED
    _count_request(plan, state, now)
    # From here the answer is the same whatever the number's past: a NO, a STOP or another
    # person's request waiting is never told to whoever adds it (nor asked again).
    if refused is not None:
        state.refused.remove(refused)  # back in the list, as the contact who said NO
        save(plan, state=state)
        return Added.ADDED
    ask = _may_invite(session, indexes)
    contact = TrustedContact(id=uuid.uuid4(), phone_index=index, consent=Consent.PENDING)
    contact.subscriber = subscriber
    session.add(contact)
    contact.phone = phone.e164
    contact.name = name[:MAX_NAME]
    contact.consent_changed_on = now.date()
    if not ask:
        return Added.ADDED  # shown as waiting, like anyone who never answers; never asked
    body = texts.opt_in(subscriber.locale, settings_of(plan).name)
    outbox.enqueue(
        session,
        outbox.Outgoing(
            subscriber=subscriber,
            contact=contact,
            body=body,
            kind=OutboxKind.OPT_IN,
            cause=outbox.cause(subscriber, "optin", contact.id.hex),
            not_before=now,
            expires_at=now + OPT_IN_LIFETIME,
        ),
    )
    return Added.ADDED


def _may_invite(session: Session, indexes: tuple[bytes, ...]) -> bool:
    """Nobody is asked twice: not after a NO or STOP, nor while another request waits."""
    opted_out = session.scalar(
        select(Subscriber.opted_out).where(Subscriber.phone_index.in_(indexes))
    )
    if opted_out:
        return False
    unanswered = session.scalar(
        select(func.count())
        .select_from(TrustedContact)
        .where(
            TrustedContact.phone_index.in_(indexes),
            TrustedContact.consent.in_((Consent.PENDING, Consent.DECLINED, Consent.REVOKED)),
        )
    )
    return not unanswered


def _refused(subscriber: Subscriber, state: PlanState, indexes: tuple[bytes, ...]) -> str | None:
    """The id of the person's removed contact with this number who had said NO, if any."""
    for contact in subscriber.contacts:
        if contact.phone_index in indexes and contact.id.hex in state.refused:
            return contact.id.hex
    return None


def _opt_ins_today(session: Session, plan: CheckinPlan, state: PlanState, now: datetime) -> int:
    """Requests counted today: the plan's own count (removals give none back), or the outbox's
    for a count kept before the plan kept one."""
    counted = state.asked if state.asked_on == now.date().isoformat() else 0
    queued = session.scalar(
        select(func.count())
        .select_from(Outbox)
        .where(
            Outbox.subscriber_id == plan.subscriber_id,
            Outbox.kind == OutboxKind.OPT_IN,
            Outbox.created_on == now.date(),
        )
    )
    return max(counted, int(queued or 0))


def _count_request(plan: CheckinPlan, state: PlanState, now: datetime) -> None:
    today = now.date().isoformat()
    state.asked = (state.asked if state.asked_on == today else 0) + 1
    state.asked_on = today
    save(plan, state=state)


def partner_for(session: Session, subscriber: Subscriber) -> CheckinPartner | None:
    """The NGO that takes escalations where the person is (their region, then its parents)."""
    slug = subscriber.region_slug
    seen = 0
    while slug and seen < 5:
        partner = session.scalar(select(CheckinPartner).where(CheckinPartner.region_slug == slug))
        if partner is not None:
            return partner
        parent = session.scalar(select(Region.parent_id).where(Region.slug == slug))
        slug = session.scalar(select(Region.slug).where(Region.id == parent)) if parent else None
        seen += 1
    return None


def alert_partner_for(
    session: Session, subscriber: Subscriber, allowed: frozenset[str]
) -> CheckinPartner | None:
    """The NGO a person may choose to alert: only one with an alert line Refuge can text."""
    partner = partner_for(session, subscriber)
    line = partner_line(session, partner) if partner is not None else None
    if line is None or not admission.destination_allowed(allowed, line):
        return None
    return partner


def set_partner(
    session: Session, region: str, name: str, line: str | None, note_key: bytes | None
) -> CheckinPartner:
    """Register (or change) the NGO that takes escalations and notes for a region."""
    partner = session.scalar(select(CheckinPartner).where(CheckinPartner.region_slug == region))
    if partner is None:
        partner = CheckinPartner(id=uuid.uuid4(), region_slug=region)
        session.add(partner)
    partner.name = name
    partner.note_key = note_key
    partner.alert_phone = line or None
    if note_key is not None:
        # Remember every key it had: notes sealed to an earlier one stay the NGO's.
        fingerprint = vault.key_fingerprint(note_key)
        known = session.scalar(
            select(PartnerNoteKey.id).where(
                PartnerNoteKey.partner_id == partner.id, PartnerNoteKey.fingerprint == fingerprint
            )
        )
        if known is None:
            session.flush()  # the partner's row first
            session.add(PartnerNoteKey(partner_id=partner.id, fingerprint=fingerprint))
    return partner


def partner_line(session: Session, partner: CheckinPartner) -> str | None:
    """The NGO's alert line, unsealed."""
    return partner.alert_phone


def include_ngo(session: Session, plan: CheckinPlan, partner: CheckinPartner) -> None:
    """Alert the NGO too: its office line becomes a recipient that agreed in advance."""
    settings = settings_of(plan)
    settings.ngo = True
    line = partner_line(session, partner)
    indexes = vault_of(session).blind_indexes(line) if line else ()
    taken = any(contact.phone_index in indexes for contact in plan.subscriber.contacts)
    index = indexes[0] if indexes else None
    if line and index and not taken and settings.ngo_contact is None:
        contact = TrustedContact(id=uuid.uuid4(), phone_index=index, consent=Consent.CONFIRMED)
        contact.subscriber = plan.subscriber
        session.add(contact)
        contact.phone = line
        contact.name = partner.name
        settings.ngo_contact = contact.id.hex
    save(plan, settings)


#: An opt-in in one of these states reached the contact's phone (as far as anyone can know).
RECEIVED = (OutboxStatus.SENT, OutboxStatus.DELIVERED)


def answer_invitations(session: Session, responder: Subscriber, agree: bool, now: datetime) -> bool:
    """A YES or NO from someone asked to be a contact; False when no request reached them.

    Consent is per person and per request the contact saw: the answer settles the latest
    request the provider took for them, never one still queued, dropped or never sent (a
    second person's request is sent and answered on its own).
    """
    waiting = {
        contact.id: contact
        for contact in session.scalars(
            select(TrustedContact).where(
                TrustedContact.phone_index == responder.phone_index,
                TrustedContact.consent == Consent.PENDING,
            )
        )
    }
    if not waiting:
        return False
    seen = session.scalar(
        select(Outbox.contact_id)
        .where(
            Outbox.contact_id.in_(list(waiting)),
            Outbox.kind == OutboxKind.OPT_IN,
            Outbox.status.in_(RECEIVED),
        )
        .order_by(Outbox.sent_at.desc())
        .limit(1)
    )
    if seen is None:
        return False
    _decide(session, waiting[seen], Consent.CONFIRMED if agree else Consent.DECLINED, now)
    return True


def refuse_everything(session: Session, responder: Subscriber, now: datetime) -> None:
    """A STOP from a contact: no request, alert or all-clear will reach them again."""
    rows = session.scalars(
        select(TrustedContact).where(
            TrustedContact.phone_index == responder.phone_index,
            TrustedContact.consent.in_((Consent.PENDING, Consent.CONFIRMED)),
        )
    ).all()
    for contact in rows:
        final = Consent.DECLINED if contact.consent is Consent.PENDING else Consent.REVOKED
        _decide(session, contact, final, now)


def _decide(session: Session, contact: TrustedContact, consent: Consent, now: datetime) -> None:
    contact.consent = consent
    contact.consent_changed_on = now.date()
    person = contact.subscriber
    plan = plan_of(session, person) if consent is Consent.CONFIRMED else None
    if plan is not None and state_of(plan).incident is not None:
        plan.next_due_at = now  # an incident is open: the sweep tells them of it too
    body = texts.consent_told(person.locale, contact.name or "", consent is Consent.CONFIRMED)
    outbox.enqueue(
        session,
        outbox.Outgoing(
            subscriber=person,
            body=body,
            kind=OutboxKind.REPLY,
            cause=outbox.cause(person, "consent", contact.id.hex, consent.value),
            not_before=now,
            expires_at=now + OPT_IN_LIFETIME,
        ),
    )


def leave_note(session: Session, subscriber: Subscriber, text: str) -> SealedNote | None:
    """Seal a note to the NGO of the person's region; None when no NGO takes notes there.

    The plan remembers the note's id (sealed) until the next incident ends, so that the
    incident's alert can tell the NGO about every note left for it.
    """
    from server import people

    partner = partner_for(session, subscriber)
    if partner is None or partner.note_key is None:
        return None
    plan = plan_of(session, subscriber)
    pressed = _pressed(session, plan) if plan is not None else None
    if pressed is not None:
        # Sealed inside the note: the caseworker reads it, the sender and the server never.
        text = f"{texts.note_mark(subscriber.locale, pressed)}\n{text}"
    note = people.leave_note(session, subscriber, partner.note_key, text)
    if plan is not None:
        state = state_of(plan)
        state.notes.append(note.id.hex)
        save(plan, state=state)
    return note


def _pressed(session: Session, plan: CheckinPlan) -> texts.Pressure | None:
    """Whether a note comes after the duress PIN or wrong PINs (since the last right PIN)."""
    for event in reversed(events_of(session, plan)):
        if event.get("kind") == "confirmed":
            break
        if event.get("kind") == "duress":
            return texts.Pressure.DURESS
    return texts.Pressure.WRONG_PINS if state_of(plan).wrong else None
