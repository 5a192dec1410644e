"""Telling people about a visit: the notices to the consultant who receives it (and to the owner someone
covers for), and the worker's half of a check-in (`visit_check_in_follow_up`, run by the task
`reception.tasks.check_in_follow_up`). Apart from `reception.services`, which enqueues that task, so that
the task can run this without the two importing each other.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from anchang.accounts.models import User
from anchang.core.notifications import notify
from anchang.core.privacy import public_name
from anchang.customers.models import CustomerEvent, EventKind
from anchang.inventory.models import ProjectSettings
from anchang.reception.models import Visit


@transaction.atomic
def visit_check_in_follow_up(
    *,
    visit_id: int,
    consultant_id: int | None,
    covering_for_id: int | None,
    by_id: int,
    events: list[dict[str, Any]],
) -> str:
    """The worker's half of a check-in: the timeline rows and the notices to the receiver (and to the
    owner someone covers for), as decided at the desk. Safe to run twice: the visit row is locked and
    the visit's own timeline row says it was done."""
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("customer", "project__settings")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None:
        return "visit gone"
    # The check-in's own timeline row (it names the rule that fired) marks the work as done; the
    # check-out's row for the same visit does not, or a visit ended before the worker ran would lose
    # its check-in row and notices.
    done = CustomerEvent.objects.filter(
        customer_id=visit.customer_id, kind=EventKind.VISIT, data__visit_id=visit.pk, data__has_key="rule"
    ).exists()
    if done:
        return "done before"
    rows = [
        CustomerEvent(
            customer_id=e["customer_id"],
            kind=e["kind"],
            by_id=e["by_id"],
            at=datetime.fromisoformat(e["at"]),
            text=e["text"],
            data=e["data"],
        )
        for e in events
    ]
    people = User.objects.in_bulk([pk for pk in (consultant_id, covering_for_id, by_id) if pk is not None])
    if consultant_id is not None:
        # Who received and who was covered for at check-in, even if the visit was handed on since.
        visit.covering_for = people.get(covering_for_id) if covering_for_id else None
        rows.extend(
            assignment_notify(
                visit=visit,
                consultant=people[consultant_id],
                settings=visit.project.settings,
                by=people.get(by_id),
            )
        )
    CustomerEvent.objects.bulk_create(rows)
    return f"{len(rows)} timeline rows"


def assignment_notify(
    *, visit: Visit, consultant: User, settings: ProjectSettings, by: User | None
) -> list[CustomerEvent]:
    """Tell the receiver (and an absent owner someone covers for); the timeline rows to add, unsaved."""
    customer, project = visit.customer, visit.project
    url = reverse("reception:visit", args=[visit.pk])
    notify(
        recipients=[consultant],
        kind="visit_assigned",
        project_id=project.pk,
        url=url,
        webhook_url=settings.wecom_webhook_url,
        title=_("请接待：%(customer)s（%(kind)s）")
        % {"customer": public_name(customer.name, customer.gender), "kind": visit.get_kind_display()},
        body=_("%(project)s 前台已为您分配访客，请尽快到前台迎接。") % {"project": project.name},
    )
    if visit.covering_for is None:
        return []
    notify(
        recipients=[visit.covering_for],
        kind="visit_covered",
        project_id=project.pk,
        url=url,
        title=_("您的客户 %(customer)s 到访了") % {"customer": public_name(customer.name, customer.gender)},
        body=_("您暂时不能接待（暂离、接待中或未上岗），%(name)s 正在代为接待；归属不变，到场后可一键接手。")
        % {"name": consultant.display_name},
    )
    return [
        CustomerEvent(
            customer=customer,
            kind=EventKind.COVERED,
            by=by,
            at=timezone.now(),
            text=(
                _("%(name)s 代 %(owner)s 接待")
                % {"name": consultant.display_name, "owner": visit.covering_for.display_name}
            )[:300],
        )
    ]
