"""Demo step: the consultants' follow-up work, so 跟进 has content on the first morning.

History customers visited in the last week get an open follow-up from their owner (some already
overdue). Keyed on "no follow-up exists yet for this project", so a rerun adds nothing. The public
pool fills itself: the worker that `make demo` starts runs the pool job, which moves the lapsed
history customers there as it would in production.
"""

from datetime import timedelta

from django.utils import timezone

from anchang.customers.models import Customer
from anchang.demo.context import CLOSES, OPENS, DemoContext, working_time
from anchang.followups.models import FollowUp

RECENT_DAYS = 7


def load_consultant_work(ctx: DemoContext) -> None:
    now = ctx.now
    # Due at working hours: later today while the day has three working hours left (else
    # tomorrow afternoon), tomorrow morning, and yesterday afternoon (overdue).
    later_today = timezone.localtime(now + timedelta(hours=3))
    if later_today.date() != timezone.localdate(now) or not OPENS <= later_today.time() <= CLOSES:
        later_today = working_time(now, days_ago=-1, minutes=5 * 60)
    dues = [
        later_today,
        working_time(now, days_ago=-1, minutes=60),
        working_time(now, days_ago=1, minutes=7 * 60),
    ]
    created = 0
    for project in ctx.projects.values():
        if FollowUp.objects.filter(customer__project=project).exists():
            continue
        recent = Customer.objects.filter(
            project=project, owner__isnull=False, last_visit_at__gte=now - timedelta(days=RECENT_DAYS)
        ).order_by("pk")
        rows = []
        for n, customer in enumerate(recent):
            assert customer.owner_id is not None  # filtered above
            # Alternate: due later today, due tomorrow, already overdue.
            due = dues[n % 3]
            rows.append(
                FollowUp(customer=customer, consultant_id=customer.owner_id, due_at=due, reason="到访后回访")
            )
        created += len(FollowUp.objects.bulk_create(rows))
    ctx.record_created(FollowUp, created)
