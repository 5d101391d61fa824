"""Names of fixed things shown to people (categories, bulletin kinds), marked for translation."""

from __future__ import annotations

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
