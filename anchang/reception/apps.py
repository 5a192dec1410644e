from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "anchang.reception"
    label = "reception"
    verbose_name = "接待"

    def ready(self) -> None:
        # Registers the periodic jobs (appointment reminders, the public pool's recovery) with
        # core.periodic for `anchang tick` and the worker.
        from anchang.reception import jobs  # noqa: F401
