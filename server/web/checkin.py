"""GET/POST /<locale>/checkin: check in with a phone number and PIN, no account, no JavaScript.

The number is only ever turned into its blind index; neither it nor the PIN is logged, echoed
back or put in a URL (the form posts). Every answer is one of three texts, whatever happened:
checked in (the same words for the real PIN and the duress PIN), not a match (a wrong PIN, an
unknown number and a number without a plan look alike, and cost the same hashing), or too many
tries. Limits: the plan's own PIN attempts per hour (shared with SMS), and the app's budget
of slow PIN checks per second that keys on nothing about the sender (no IP is read).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from flask import Blueprint, Flask, abort, current_app, g, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError

from server import db, people
from server.checkins import plans, texts
from server.checkins.plans import Checked, Status
from server.i18n.locales import ascii_digits
from server.i18n.web import available_locales
from server.phones import MAX_PHONE_INPUT, InvalidPhoneNumber, PhoneNumber, normalize_phone

blueprint = Blueprint("checkin", __name__)

#: Slow PIN checks an app accepts per second (argon2id costs ~35 ms each).
CHECKS_PER_SECOND = 8.0
MAX_PIN_INPUT = 32
#: Where an app keeps its budget of PIN checks (`app.extensions[BUDGET_EXTENSION]`).
BUDGET_EXTENSION = "refuge.checkin_budget"


class Budget:
    """A token bucket: at most `rate` uses per second on average, `rate` at once."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.tokens = rate
        self.clock = clock
        self.stamp = clock()
        self.lock = threading.Lock()

    def take(self) -> bool:
        """Use one token; False when none is left."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


def budget(app: Flask | None = None) -> Budget:
    """The budget of slow PIN checks of an app (the current one by default)."""
    found: Budget = (app or current_app).extensions[BUDGET_EXTENSION]
    return found


@blueprint.record_once
def _give_the_app_a_budget(state: BlueprintSetupState) -> None:
    state.app.extensions[BUDGET_EXTENSION] = Budget(CHECKS_PER_SECOND)


def _locale(locale: str) -> None:
    if locale not in available_locales():
        abort(404)


@blueprint.get("/<locale>/checkin")
def form(locale: str) -> str:
    """The check-in form."""
    _locale(locale)
    return render_template("checkin.html", outcome=None, error=None)


@blueprint.post("/<locale>/checkin")
def submit(locale: str) -> tuple[str, int] | str:
    """Check in; the answer never says which part of a failed attempt was wrong."""
    _locale(locale)
    raw_number = request.form.get("number", "")[:MAX_PHONE_INPUT]
    pin = ascii_digits(request.form.get("pin", "")[:MAX_PIN_INPUT]).strip()
    if plans.valid_pin(pin) is None:
        return render_template(
            "checkin.html", outcome=None, error=_("A PIN is 4 to 8 digits.")
        ), 400
    try:
        phone = normalize_phone(ascii_digits(raw_number))
    except InvalidPhoneNumber:
        error = _("Enter your number with + and the country code.")
        return render_template("checkin.html", outcome=None, error=error), 400
    if not budget().take():
        return render_template("checkin.html", outcome=None, error=_too_many()), 429
    try:
        answer, status = _check_in(phone, pin, g.locale)
    except OperationalError:  # a busy database: nothing was written; the person can retry
        current_app.logger.warning("web check-in: database busy")
        answer, status = _("Sorry, something went wrong. Please try again soon."), 503
    if status != 200:
        return render_template("checkin.html", outcome=None, error=answer), status
    return render_template("checkin.html", outcome=answer, error=None)


def _too_many() -> str:
    return str(_("Too many tries. Try again later."))


def _check_in(phone: PhoneNumber, pin: str, locale: str) -> tuple[str, int]:
    session = db.request_session()
    now = datetime.now(UTC)
    person = people.find_subscriber(session, phone)
    plan = plans.plan_of(session, person, lock=True) if person is not None else None
    checked = plans.check_in(session, plan, pin, now)
    if checked is Checked.OK and plan is not None and person is not None:
        person.last_seen_on = date.today()
    session.commit()
    if checked is Checked.LIMITED:
        return _too_many(), 429
    if checked is not Checked.OK or plan is None:
        return _("That number and PIN do not match a check-in."), 400
    state = plans.state_of(plan)
    due = state.due_at
    if state.status == Status.STOPPED.value:
        return _("Check-ins stopped. Reply CHECKIN to set them up again."), 200
    if state.status == Status.ACTIVE.value and due is not None:
        when = texts.local_time(due, plans.settings_of(plan).zone, locale)
        return _("Thank you. Next check-in: %(time)s.", time=when), 200
    return _("Thank you."), 200
