from django.db.models import Q, QuerySet

from anchang.customers.models import Customer
from anchang.inventory.models import Project

SEARCH_LIMIT = 20


def customer_search(*, project: Project, q: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Find a project's customers by name, 拼音, initials, the last 4 digits or the full mobile.

    Every branch is an indexed lookup: last-4 and full phone are b-tree equality, name/拼音/initials
    are `contains` served by trigram indexes on PostgreSQL.
    """
    text = q.strip().lower().replace(" ", "")[:30]
    if not text:
        return []
    customers: QuerySet[Customer] = Customer.objects.filter(project=project).select_related("owner")
    digits = text.lstrip("+")
    if digits.isdigit():
        if len(digits) == 4:
            customers = customers.filter(phone_last4=digits)
        elif len(digits) >= 11:
            customers = customers.filter(phone=f"+86{digits[-11:]}")
        else:
            return []
    elif text.isascii():
        customers = customers.filter(Q(name_initials__contains=text) | Q(name_pinyin__contains=text))
    else:
        customers = customers.filter(name__contains=q.strip()[:30])
    return list(customers.order_by("-last_visit_at", "-pk")[:limit])
