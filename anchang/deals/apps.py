from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "anchang.deals"
    label = "deals"
    verbose_name = "成交"

    def ready(self) -> None:
        # Registers the periodic jobs (expired holds release themselves) with core.periodic.
        from anchang.deals import jobs  # noqa: F401
