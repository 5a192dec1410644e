"""Test helpers of reception."""

from django_tasks_db.models import DBTaskResult

from anchang.reception.tasks import check_in_follow_up


def run_check_in_follow_ups() -> int:
    """Do what `anchang worker` does with the check-ins' queued follow-ups (the notices and timeline
    rows), in order; returns how many ran."""
    rows = list(
        DBTaskResult.objects.ready()
        .filter(task_path=check_in_follow_up.module_path)
        .order_by("enqueued_at", "id")
    )
    for row in rows:
        check_in_follow_up.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        row.delete()
    return len(rows)
