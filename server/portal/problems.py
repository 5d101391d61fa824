"""The content parser's problems, said in the editor's language.

The loader's reasons are written for operators reading a terminal, in English; a form shows
them translated here, naming the field as the content format does (each form label shows that
name too). A reason not listed stays as the loader wrote it.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from server.content.drafts import DAY_FIELDS
from server.content.schema import Problem

#: What a field's parser said (after "'field': ").
FIELD_REASONS: dict[str, object] = {
    "must be non-empty text": _l("must not be empty"),
    "must be text": _l("must be text"),
    "must be lower-case letters, digits and '-', at most 64 characters": _l(
        "may hold only lower-case letters, digits and -, at most 64"
    ),
    "must be letters, digits, '-' and '_', at most 64 characters": _l(
        "may hold only letters, digits, - and _, at most 64"
    ),
    "must be true or false": _l("must be yes or no"),
    "must be a whole number": _l("must be a whole number"),
    "must be a date like 2026-11-20": _l("must be a date like 2026-11-20"),
    "must be a timestamp like 2026-11-20T08:00:00Z": _l("must be a time like 2026-11-20T08:00:00Z"),
    "needs a time zone offset, like Z or +06:00": _l("needs a time zone, like Z or +06:00"),
    "must be an https:// address": _l("must be an address starting with https://"),
    "may hold only digits, spaces, '+', '-' and brackets": _l(
        "may hold only digits, spaces, +, - and brackets"
    ),
    "must be a list": _l("must be a list"),
}
#: Whole reasons, with the field they name.
WHOLE: tuple[tuple[re.Pattern[str], object], ...] = (
    (re.compile(r"'(?P<field>\w+)' is required"), _l("%(field)s is required")),
    (re.compile(r"the bulletin has no body after its front matter"), _l("The text is empty.")),
    (
        re.compile(r"alerts and advisories need '(?P<field>expires_at)'"),
        _l("Alerts and advisories need %(field)s."),
    ),
    (
        re.compile(r"'(?P<field>expires_at)' must be after 'issued_at'"),
        _l("%(field)s must be after issued_at."),
    ),
    (
        re.compile(r"a context note needs '(?P<field>match_phrases)'.*"),
        _l("A context note needs %(field)s: the rumour's wording."),
    ),
    (
        re.compile(r"a resource needs at least one category"),
        _l("Choose at least one category."),
    ),
    (re.compile(r"a checklist needs at least one step"), _l("A checklist needs a step.")),
    (
        re.compile(r"'(?P<field>sms)' must fit one GSM-7 segment.*"),
        _l("Each step's %(field)s must fit one SMS of plain (GSM-7) characters."),
    ),
    (re.compile(r"not valid YAML: .*"), _l("This YAML cannot be read.")),
)
_LIST = re.compile(r"^'(?P<field>\w+)' must be a list$")
_FIELD = re.compile(r"'(?P<field>\w+)': (?P<reason>.*)")


def said(problem: Problem) -> str:
    """A problem in the request's language."""
    reason = _LIST.sub(r"'\g<field>': must be a list", problem.reason)
    for pattern, template in WHOLE:
        found = pattern.fullmatch(reason)
        if found is not None:
            return str(template) % found.groupdict()
    found = _FIELD.fullmatch(reason)
    if found is not None and found["reason"].startswith("Invalid isoformat string"):
        # Python's own words for a date or time it cannot read.
        day = found["field"] in DAY_FIELDS
        wanted = (
            "must be a date like 2026-11-20"
            if day
            else "must be a timestamp like 2026-11-20T08:00:00Z"
        )
        found = _FIELD.fullmatch(f"'{found['field']}': {wanted}")
    if found is not None and found["reason"] in FIELD_REASONS:
        translated = str(FIELD_REASONS[found["reason"]])
        # Translators: a field of a form (named as the content format names it) and its problem.
        return str(_("%(field)s: %(reason)s", field=found["field"], reason=translated))
    if found is not None and found["reason"].startswith("must be one of: "):
        return str(_("%(field)s: choose one of the list", field=found["field"]))
    return reason
