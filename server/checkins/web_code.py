"""The web check-in's second secret, and checking in with it.

A number and a PIN are not enough on the web: anyone can type a number, and a PIN has few
values. Web check-in is off until the person texts `WEB <PIN>`; Refuge then texts them a web
code of `WEB_CODE_DIGITS` random digits, which the web page asks for beside the PIN (`WEB NO`
turns it off again; a new set-up does too). The code is kept only as a slow, peppered hash in
the plan's sealed settings. How often the page may be tried is `server.web.checkin`'s business;
this module makes every try cost the same and say nothing.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.checkins import plans
from server.checkins.kinds import Checked, Status
from server.db import vault_of
from server.models.checkins import CheckinPlan
from server.models.people import Subscriber

#: Digits of the web code (10^8 values, beside the PIN's).
WEB_CODE_DIGITS = 8

#: Plans a web check-in may confirm (one being set up has nothing to confirm yet).
_WEB_STATUSES = frozenset({Status.ACTIVE.value, Status.PAUSED.value, Status.STOPPED.value})


def plan_of(session: Session, subscriber: Subscriber | None) -> CheckinPlan | None:
    """The plan a web check-in names, locked for update: one and the same query whether or not
    the number belongs to anyone, so that the lookup takes the same time either way."""
    owner = subscriber.id if subscriber is not None else uuid.uuid4()
    query = select(CheckinPlan).where(CheckinPlan.subscriber_id == owner)
    plan = session.scalar(query.with_for_update())
    if plan is not None and subscriber is not None:
        plan.subscriber = subscriber
    return plan


def check_in(
    session: Session, plan: CheckinPlan | None, pin: str, code: str, now: datetime, *, allowed: bool
) -> Checked:
    """Confirm the current period from the web page: the web code and a PIN are both needed.

    Whatever the number, the plan, its web setting or `allowed` (False when the number's web
    limit is spent), exactly three slow hashes are checked (against the vault's decoy where
    there is nothing to check), so a stranger learns nothing from the answer or its time. A
    failure writes nothing at all: it spends none of the person's SMS attempts and never
    counts towards the wrong-PIN alert, which only the person's own phone can raise. A success
    does what an SMS check-in does (the duress PIN alerts, silently).
    """
    keys = vault_of(session)
    found = _open_plan(plan) if allowed else None
    target, state, web = found if found is not None else (None, None, None)
    code_ok = keys.verify_pin(web, code)
    real = keys.verify_pin(target.pin if target is not None else None, pin)
    duress = keys.verify_pin(target.duress if target is not None else None, pin)
    if target is None or state is None or not code_ok or not (real or duress):
        return Checked.WRONG
    plans.accept(session, target, state, duress, now)
    return Checked.OK


def _open_plan(
    plan: CheckinPlan | None,
) -> tuple[CheckinPlan, plans.PlanState, str] | None:
    """The plan, its state and its web code's hash, when it takes web check-ins now."""
    if plan is None or plan.pin is None:
        return None
    state = plans.state_of(plan)
    web = plans.settings_of(plan).web
    if web is None or state.status not in _WEB_STATUSES:
        return None
    return plan, state, web


def turn_on(session: Session, plan: CheckinPlan, *, seeming: bool = False) -> str:
    """Turn web check-in on with a new web code, returned to be texted to the person (once).

    `seeming` (the duress PIN asked): a code is made and hashed as usual, and kept nowhere, so
    the plan's real code, or web check-in being off, stays as it was.
    """
    code = "".join(secrets.choice("0123456789") for _ in range(WEB_CODE_DIGITS))
    hashed = vault_of(session).hash_pin(code)
    if not seeming:
        plans.save(plan, replace(plans.settings_of(plan), web=hashed))
    return code


def turn_off(plan: CheckinPlan) -> bool:
    """Turn web check-in off (its code no longer works); False when it was already off."""
    settings = plans.settings_of(plan)
    if settings.web is None:
        return False
    plans.save(plan, replace(settings, web=None))
    return True
