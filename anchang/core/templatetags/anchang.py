from django import template

from anchang.core import formatting, phones, privacy

register = template.Library()

register.filter("wan", formatting.wan)
register.filter("yuan", formatting.yuan)
register.filter("per_m2", formatting.per_square_metre)
register.filter("sqm", formatting.square_metres)
register.filter("masked_phone", privacy.mask_phone)
register.filter("masked_id", privacy.mask_id_number)
register.filter("spaced_mobile", phones.spaced_mobile)
register.filter("national_mobile", phones.national_digits)


@register.filter
def public_name(person: object) -> str:
    return privacy.public_name(getattr(person, "name", None), getattr(person, "gender", None))


@register.simple_tag
def layout_of(unit: object) -> str:
    return formatting.layout(
        getattr(unit, "bedrooms", None), getattr(unit, "halls", None), getattr(unit, "bathrooms", None)
    )


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: object) -> str:
    """The current query string with some keys replaced (filters and pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"
