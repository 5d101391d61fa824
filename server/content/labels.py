"""Names of fixed things shown to people (categories, bulletin kinds), marked for translation."""

from __future__ import annotations

from collections.abc import Callable

from server.models.content import Category


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


CATEGORY_NAMES = {
    Category.HELPLINE: N_("Helplines"),
    Category.MEDICAL: N_("Medical care"),
    Category.SHELTER: N_("Shelter"),
    Category.FOOD_WATER: N_("Food and water"),
    Category.LEGAL_AID: N_("Legal aid"),
    Category.DOCUMENTATION: N_("Documents"),
    Category.PSYCHOSOCIAL: N_("Emotional support"),
    Category.PROTECTION: N_("Protection"),
    Category.EVACUATION: N_("Evacuation"),
    Category.FAMILY_TRACING: N_("Finding family"),
}


def scope_label(gettext: Callable[[str], str], distance: int, region: str) -> str:
    """Where an item shown for a place applies, when that is not the place itself ("" then).

    `distance` as in `queries.Scope`: above the place, the item covers a whole wider region;
    below it, only one of the places within it.
    """
    if distance > 0:
        # Translators: a resource or bulletin that covers a wider region than the person's
        # place, e.g. "For all of Cox's Bazar". Keep the region's name in the nominative (a
        # colon works: "Whole region: %(region)s").
        return gettext("For all of %(region)s") % {"region": region}
    if distance < 0:
        # Translators: a verified answer given for one smaller place within the person's
        # region, e.g. "Applies to: Kharkiv". Keep the region's name in the nominative.
        return gettext("Applies to: %(region)s") % {"region": region}
    return ""
