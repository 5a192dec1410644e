"""Background tasks of core (django-tasks; `anchang worker` runs them).

Tasks take ids and are safe to run twice (architecture rule 7): the work and its guards live in
`core.delivery`, a task only names the entry point for the queue.
"""

from django_tasks import task

from anchang.core import delivery


@task()
def deliver_notification(notification_id: int) -> str:
    return delivery.notification_deliver(notification_id=notification_id)
