"""Template filters of the knowledge base."""

from django import template
from django.utils.translation import gettext as _

from anchang.knowledge.scripts import script_spoken_by

register = template.Library()


@register.filter
def spoken_by(text: str, speaker: object) -> str:
    """A script's text in the words of `speaker` (a user): `{顾问}` becomes their name."""
    name = getattr(speaker, "display_name", "") if getattr(speaker, "is_authenticated", False) else ""
    return script_spoken_by(text, name or _("（您的姓名）"))
