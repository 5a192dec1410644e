from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "anchang.reception"
    label = "reception"
    verbose_name = "接待"

    def ready(self) -> None:
        # Registers the periodic jobs (appointment reminders) with core.periodic for `anchang tick`.
        from anchang.reception import jobs  # noqa: F401
