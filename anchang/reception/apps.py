from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "anchang.reception"
    label = "reception"
    verbose_name = "接待"

    def ready(self) -> None:
        # Registers the periodic jobs (appointment reminders, the public pool's recovery) with
        # core.periodic for `anchang tick` and the worker.
        from anchang.reception import jobs  # noqa: F401
        from anchang.reception.rotation import rotation_use_waiting_assigner
        from anchang.reception.services import visit_assign_waiting

        # A consultant back in the queue takes the oldest waiting visitor (see rotation).
        rotation_use_waiting_assigner(visit_assign_waiting)
