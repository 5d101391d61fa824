"""What the check-in conversation needs from the database, as plain data and a Protocol.

The engine parses every check-in word and set-up answer itself and reaches PIN hashes, the
plan and contacts only through a `CheckinPort` for one person and one moment:
`server.conversation.checkin_desk` implements it on the database, tests with a fake. Whatever PIN a
call carries, what it answers never tells a right PIN from the duress PIN, except `confirm`,
whose caller must pretend to obey (and never tells anyone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.checkins.kinds import Added, Checked, Status
from server.phones import PhoneNumber

__all__ = ["Added", "Checked", "CheckinPort", "ContactLine", "PlanView", "Status"]


@dataclass(frozen=True)
class PlanView:
    """The person's plan as the conversation shows it."""

    status: Status
    due: datetime | None  # the end of the current period
    zone: str  # an IANA zone or a fixed offset ("UTC+06:00"); "" until set-up asks
    name: str  # what contacts know the person by
    message: str | None  # the contacts' alert in the person's words; None: the default


@dataclass(frozen=True)
class ContactLine:
    """One trusted contact, as a line in a list."""

    id: str
    name: str
    agreed: bool = False
    waiting: bool = False


class CheckinPort(Protocol):
    """One person's check-in plan and contacts, read and changed in the turn's transaction."""

    def plan(self) -> PlanView | None:
        """The plan (locked for the turn on first reading), None without one."""
        ...

    # --- Set-up ---

    def begin(self) -> None:
        """Start setting up (again), first sending any alert a duress PIN raised."""
        ...

    def first_zone(self) -> str:
        """The zone a set-up starts with (the region's, else the number's); "" when neither
        tells it and the set-up asks."""
        ...

    def set_pin(self, pin: str) -> None: ...

    def set_duress(self, pin: str | None) -> bool:
        """Keep (or drop) the duress PIN; False when it is the check-in PIN."""
        ...

    def set_schedule(self, hours: int, daily_at: str | None) -> None: ...

    def set_zone(self, zone: str) -> None:
        """The zone the person named (`server.checkins.zones.parse_zone`)."""
        ...

    def set_grace(self, minutes: int) -> None: ...

    def set_name(self, name: str) -> None: ...

    def set_later(self, contacts: list[str]) -> None:
        """The contacts (by id) alerted only at the second stage."""
        ...

    def set_message(self, message: str | None) -> None: ...

    def contacts(self) -> list[ContactLine]:
        """The person's own contacts (not the NGO's line), oldest first."""
        ...

    def countries(self) -> frozenset[str]:
        """The ISO codes of the countries whose numbers Refuge texts."""
        ...

    def add_contact(self, phone: PhoneNumber, name: str) -> Added:
        """Trust a new contact and ask them; refused when Refuge could never text them."""
        ...

    def partner(self) -> str | None:
        """The name of the NGO that takes alerts where the person is, on a line Refuge can
        text; None when there is none."""
        ...

    def include_partner(self) -> None: ...

    def activate(self) -> datetime:
        """Start the schedule; the first due time."""
        ...

    # --- A running plan ---

    def check_in(self, pin: str) -> Checked: ...

    def pause(self, pin: str) -> Checked: ...

    def stop(self, pin: str) -> Checked: ...

    def resume(self) -> datetime | None:
        """Resume a paused plan: the next due time, None when it was not paused."""
        ...

    def hold(self) -> bool:
        """The person opted out: pause an active plan until they opt back in (what was already
        raised is still sent); False when it was not active."""
        ...

    def release(self) -> datetime | None:
        """The person opted back in: resume the plan their opt-out paused; the next due time,
        None when it had not paused one."""
        ...

    def confirm(self, pin: str) -> tuple[Checked, bool]:
        """Check a PIN against a running plan, and whether it was the duress PIN."""
        ...

    def alert_if_duress(self, pin: str) -> bool:
        """Whether this is a running plan's duress PIN, typed where no PIN was asked for (a
        pretended set-up): if so its alert is raised as `confirm` would; any other PIN changes
        nothing and counts as no try."""
        ...

    def shown_contacts(self) -> list[ContactLine]:
        """The contacts the person is shown: all but those "removed" under duress."""
        ...

    def find_contact(self, who: str) -> ContactLine | None:
        """The shown contact with this number or name."""
        ...

    def remove_contact(self, contact: ContactLine, *, seeming: bool) -> None:
        """Forget a contact; `seeming`: only hide it (the duress PIN asked)."""
        ...

    def web_on(self, pin: str) -> tuple[Checked, str | None]:
        """Check the PIN as `confirm` does; when it is right, turn web check-in on with a new
        web code, returned to be texted (the duress PIN gets a code that works nowhere)."""
        ...

    def web_off(self) -> bool:
        """Turn web check-in off; False when it was not on."""
        ...

    def leave_note(self, text: str) -> bool:
        """Seal a note for the NGO; False when no NGO takes notes here."""
        ...

    # --- Someone asked to be a contact ---

    def answer_invitations(self, agree: bool) -> bool:
        """A YES or NO to being a contact; False when nobody asked."""
        ...
