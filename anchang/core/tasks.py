"""Background tasks of core (django-tasks; `anchang worker` runs them).

Tasks take ids and are safe to run twice (architecture rule 7): the work and its guards live in
`core.notifications`, a task only names the entry point for the queue.
"""

from django_tasks import task

from anchang.core import notifications


@task()
def deliver_notification(notification_id: int) -> str:
    return notifications.notification_deliver(notification_id=notification_id)
