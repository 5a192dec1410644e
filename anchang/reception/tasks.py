"""Background tasks of reception (django-tasks; `anchang worker` runs them).

Tasks take ids and plain values and are safe to run twice (architecture rule 7): the work and its
guards live in `reception.notices`, a task only names the entry point for the queue.
"""

from typing import Any

from django_tasks import task

from anchang.reception.notices import visit_check_in_follow_up


@task()
def check_in_follow_up(
    visit_id: int,
    consultant_id: int | None,
    covering_for_id: int | None,
    by_id: int,
    events: list[dict[str, Any]],
) -> str:
    return visit_check_in_follow_up(
        visit_id=visit_id,
        consultant_id=consultant_id,
        covering_for_id=covering_for_id,
        by_id=by_id,
        events=events,
    )
