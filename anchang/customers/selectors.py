from django.db.models import Prefetch, Q, QuerySet

from anchang.accounts.models import Role, User
from anchang.customers.models import Attribution, Customer
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


def customer_visible_to(*, user: User, customer_id: int) -> Customer | None:
    """A customer page is for the project's desk and managers, and for the customer's own consultant.

    Anyone else gets nothing (a 404): another consultant's customer is a company secret (§13).
    """
    from anchang.accounts.selectors import project_list_visible_to

    customer = (
        Customer.objects.select_related("owner", "project", "household_of")
        .filter(pk=customer_id, project__in=project_list_visible_to(user=user))
        .first()
    )
    if customer is None:
        return None
    if user.sees_all_projects or user.role in (Role.MANAGER, Role.FRONTDESK):
        return customer
    if user.role == Role.CONSULTANT and customer.owner_id == user.pk:
        return customer
    return None


def customer_visits(*, customer: Customer) -> QuerySet:
    from anchang.reception.models import Visit

    return (
        Visit.objects.filter(customer=customer)
        .select_related("consultant", "covering_for")
        .prefetch_related(
            Prefetch(
                "attributions",
                queryset=Attribution.objects.select_related("consultant").order_by("decided_at", "pk"),
            )
        )
        .order_by("-checked_in_at")
    )
