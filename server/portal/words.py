"""The portal's names for the fixed words of the content format (statuses, kinds, states).

Forms post the format's own words (`published`, `temporarily closed`); people read these names
in their language. A word without a name here is shown as the format writes it.
"""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from server.content.labels import CATEGORY_NAMES
from server.portal.scoping import STALE

WORDS: dict[str, object] = {
    # Translators: a bulletin or resource status, or a version of a record waiting for review.
    "draft": _l("draft"),
    "in_review": _l("in review"),
    "published": _l("published"),
    "retracted": _l("retracted"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    # Translators: a draft replaced by a newer draft of the same author before anyone decided.
    "superseded": _l("superseded"),
    "active": _l("active"),
    "inactive": _l("inactive"),
    "defunct": _l("closed for good"),
    "temporarily closed": _l("temporarily closed"),
    STALE: _l("needs re-verification"),
    "alert": _l("alert"),
    "advisory": _l("advisory"),
    "context": _l("context note"),
    "extreme": _l("extreme"),
    "severe": _l("severe"),
    "moderate": _l("moderate"),
    "minor": _l("minor"),
    "unknown": _l("unknown"),
}


def word(value: str) -> str:
    """The name of a word of the content format in the request's language."""
    if value in WORDS:
        return str(WORDS[value])
    for category, name in CATEGORY_NAMES.items():
        if category.value == value:
            return str(gettext(name))
    return value
