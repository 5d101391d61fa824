"""GET/POST /<locale>/checkin: check in with a phone number, PIN and web code, no account,
no JavaScript.

The page must tell a stranger nothing and let them do nothing. The number is only ever turned
into digests; neither it nor the PIN or code is logged, echoed back or put in a URL (the form
posts). A try that does not check in gets one answer, whatever happened: a wrong PIN or code,
a number nobody uses, a plan with web check-in off, or a number whose tries are spent all read
alike, cost the same slow hashing (`server.checkins.web_code`) and write nothing, so they
neither spend the person's SMS attempts nor raise the wrong-PIN alert.

Limits, each in memory per process and keyed by digests under keys replaced every window:
tries per client address (over it: "too many tries", before any slow work), tries per number
for every number (over it: the same answer as any failure, after the same work), and slow
checks running at once, one at most per client. None is shared by everyone, so one client
cannot use up another's check-in.

No cookie is set (the site promises none). Forged requests are refused without one: the form
carries a token signed by the vault for this form and at most `TOKEN_AGE` old, and a post its
browser marks as sent from another site (`Sec-Fetch-Site`) is refused too, since a token
alone is not tied to a browser. Both come before any limit or slow work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Blueprint, Flask, abort, current_app, g, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

from server import db, people, vault
from server.checkins import plans, texts, web_code
from server.checkins.plans import Checked, Status
from server.config import app_settings
from server.i18n.locales import ascii_digits
from server.i18n.web import available_locales
from server.phones import MAX_PHONE_INPUT, InvalidPhoneNumber, PhoneNumber, normalize_phone
from server.web.ratelimit import Busy, Crowded, RateLimiter, SlowWork

blueprint = Blueprint("checkin", __name__)

MAX_PIN_INPUT = 32
MAX_CODE_INPUT = 32
#: Tries one client address may make in a window (a shared address, an NGO office or a
#: carrier's NAT, still leaves room for several people).
CLIENT_TRIES, CLIENT_WINDOW = 20, 10 * 60
#: Tries a number may be given in a window, whoever makes them and whether or not anyone
#: uses the number; past it, every try fails as a wrong one would (SMS still works).
NUMBER_TRIES, NUMBER_WINDOW = 5, 60 * 60
#: Slow checks (three argon2id hashes, about 0.1 s) at once per process, and how long a try
#: waits for one.
SLOW_SLOTS, SLOW_WAIT = 4, 2.0
#: The name the form's tokens are signed for, and seconds a token stays good (a person may
#: take a while to find their web code).
FORM, TOKEN_AGE = "checkin", 60 * 60
#: `Sec-Fetch-Site` values of a post from this site's own page (or one a browser does not label).
OWN_SITE = frozenset({"same-origin", "none"})
#: Where an app keeps its limits (`app.extensions[LIMITS_EXTENSION]`).
LIMITS_EXTENSION = "refuge.checkin_limits"


@dataclass(frozen=True)
class Limits:
    """The web check-in's limits in one app: per client, per number, slow work at once."""

    clients: RateLimiter
    numbers: RateLimiter
    slow: SlowWork

    @classmethod
    def default(cls) -> Limits:
        """The limits an app starts with."""
        return cls(
            clients=RateLimiter(limit=CLIENT_TRIES, window=CLIENT_WINDOW),
            numbers=RateLimiter(limit=NUMBER_TRIES, window=NUMBER_WINDOW),
            slow=SlowWork(SLOW_SLOTS, SLOW_WAIT),
        )


def limits(app: Flask | None = None) -> Limits:
    """The web check-in limits of an app (the current one by default)."""
    found: Limits = (app or current_app).extensions[LIMITS_EXTENSION]
    return found


@blueprint.record_once
def _give_the_app_limits(state: BlueprintSetupState) -> None:
    state.app.extensions[LIMITS_EXTENSION] = Limits.default()


def _locale(locale: str) -> None:
    if locale not in available_locales():
        abort(404)


@blueprint.get("/<locale>/checkin")
def form(locale: str) -> str:
    """The check-in form."""
    _locale(locale)
    return _render(outcome=None, error=None)


@blueprint.post("/<locale>/checkin")
def submit(locale: str) -> tuple[str, int] | str:
    """Check in; the answer never says which part of a failed attempt was wrong."""
    _locale(locale)
    if not _from_our_form():
        return _page(
            _("This form was too old or did not come from this site. Please fill it in again."),
            400,
        )
    raw_number = request.form.get("number", "")[:MAX_PHONE_INPUT]
    pin = ascii_digits(request.form.get("pin", "")[:MAX_PIN_INPUT]).strip()
    code = "".join(ascii_digits(request.form.get("code", "")[:MAX_CODE_INPUT]).split())
    if plans.valid_pin(pin) is None:
        return _page(_("A PIN is 4 to 8 digits."), 400)
    try:
        phone = normalize_phone(ascii_digits(raw_number))
    except InvalidPhoneNumber:
        return _page(_("Enter your number with + and the country code."), 400)
    client = request.remote_addr or ""
    found = limits()
    if found.clients.hit(client) is not None:
        return _page(_too_many(), 429)
    try:
        with found.slow.slot(client):
            allowed = found.numbers.hit(phone.e164) is None
            answer, status = _check_in(phone, pin, code, g.locale, allowed=allowed)
    except Crowded:  # this client's previous try is still running after the wait
        return _page(_too_many(), 429)
    except (Busy, OperationalError):  # nothing was written; the person can retry
        current_app.logger.warning("web check-in: busy")
        return _page(_("Sorry, something went wrong. Please try again soon."), 503)
    if status != 200:
        return _page(answer, status)
    return _render(outcome=answer, error=None)


def _from_our_form() -> bool:
    """True for a post of a form this instance served lately, from a page of this site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in OWN_SITE:
        return False
    token = request.form.get("csrf_token", "")[:200]
    return vault.form_token_valid(app_settings().secret_key, FORM, token, time.time(), TOKEN_AGE)


def _render(*, outcome: str | None, error: str | None) -> str:
    token = vault.form_token(app_settings().secret_key, FORM, time.time())
    return render_template("checkin.html", outcome=outcome, error=error, form_token=token)


def _page(error: str, status: int) -> tuple[str, int]:
    return _render(outcome=None, error=error), status


def _too_many() -> str:
    return str(_("Too many tries. Try again later."))


def _check_in(
    phone: PhoneNumber, pin: str, code: str, locale: str, *, allowed: bool
) -> tuple[str, int]:
    session = db.request_session()
    now = datetime.now(UTC)
    person = people.find_subscriber(session, phone)
    plan = web_code.plan_of(session, person)
    checked = web_code.check_in(session, plan, pin, code, now, allowed=allowed)
    if checked is Checked.OK and person is not None:
        person.last_seen_on = date.today()
    session.commit()
    if checked is not Checked.OK or plan is None:
        failed = _(
            "No check-in: the number, PIN or web code is not right, web check-in is off, or "
            "this number had too many tries this hour. Checking in by SMS always works."
        )
        return failed, 400
    state = plans.state_of(plan)
    due = state.due_at
    if state.status == Status.STOPPED.value:
        return _("Check-ins stopped. Reply CHECKIN to set them up again."), 200
    if state.status == Status.ACTIVE.value and due is not None:
        when = texts.local_time(due, plans.settings_of(plan).zone, locale)
        return _("Thank you. Next check-in: %(time)s.", time=when), 200
    return _("Thank you."), 200
