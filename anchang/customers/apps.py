from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "anchang.customers"
    label = "customers"
    verbose_name = "客户"

    def ready(self) -> None:
        # Registers the public-pool recovery job with core.periodic for `anchang tick` and the worker.
        from anchang.customers import jobs  # noqa: F401
