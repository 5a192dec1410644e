from django.db.models import Q

from anchang.accounts.models import Role, User
from anchang.customers.models import Customer
from anchang.inventory.models import Project

SEARCH_LIMIT = 20


def customer_search_q(q: str) -> Q | None:
    """The filter of `selectors.customer_search` as a Q, to search inside a narrower set.

    The same branches: four digits are the last four of the mobile, eleven or more a full mobile,
    ASCII is 拼音 or initials, anything else the name. `None` means "cannot match anything" (e.g.
    five digits); an empty query is `Q()`.
    """
    text = q.strip().lower().replace(" ", "")[:30]
    if not text:
        return Q()
    digits = text.lstrip("+")
    if digits.isdigit():
        if len(digits) == 4:
            return Q(phone_last4=digits)
        if len(digits) >= 11:
            return Q(phone=f"+86{digits[-11:]}")
        return None
    if text.isascii():
        # pg_trgm finds no trigram in '%wl%': one or two letters match the start of a reading instead.
        if len(text) < 3:
            return (
                Q(name_initials__startswith=text)
                | Q(name_initials__contains=f" {text}")
                | Q(name_pinyin__startswith=text)
                | Q(name_pinyin__contains=f" {text}")
            )
        return Q(name_initials__contains=text) | Q(name_pinyin__contains=text)
    name = q.strip()[:30]
    if len(name) == 1:
        return Q(name__startswith=name)  # a surname
    if len(name) == 2:
        # The start or the end of a name (王伟…, …伟强): patterns the trigram index can serve.
        return Q(name__startswith=name) | Q(name__endswith=name)
    return Q(name__contains=name)


def is_selective_search(q: str) -> bool:
    """Searches narrow enough that the database should start from the search index, not the order."""
    text = q.strip().replace(" ", "")
    if not text:
        return False
    if text.lstrip("+").isdigit():
        return True
    return len(text) >= 3 if text.isascii() else len(text) >= 2


def customer_search(*, project: Project, q: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Find a project's customers by name, 拼音, initials, the last 4 digits or the full mobile.

    Every branch is an indexed lookup: last-4 and full phone are b-tree equality, name/拼音/initials
    are `contains` served by trigram indexes on PostgreSQL.
    """
    condition = customer_search_q(q)
    if not condition:
        return []
    customers = Customer.objects.filter(project=project).filter(condition).select_related("owner")
    return list(customers.order_by("-last_visit_at", "-pk")[:limit])


def may_record_followup(*, user: User, customer: Customer) -> bool:
    """Follow-ups (followups app) are the owner consultant's work; the project's managers (and admins)
    may record too. It lives here so that the customer page can offer 记录跟进 without importing
    the follow-ups app, which builds on customers."""
    return user.is_site_manager or (user.role == Role.CONSULTANT and customer.owner_id == user.pk)


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
    # The public pool is open to the project's consultants (masked), so they can claim from it.
    if user.role == Role.CONSULTANT and customer.owner_id is None and customer.pooled_at is not None:
        return customer
    return None


def customer_with_phone_visible_to(*, user: User, project_id: int, phone: str) -> Customer | None:
    """The project's customer with this phone (E.164) if `user` may open their page: a booking's link
    to the customer's file, so the consultant sees who is coming and their history before the visit."""
    found = Customer.objects.filter(project_id=project_id, phone=phone).values_list("pk", flat=True).first()
    return customer_visible_to(user=user, customer_id=found) if found else None
