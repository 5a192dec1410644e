from django.apps import AppConfig
from django.core import checks

from anchang.core.sms import check_sms_configuration


class CoreConfig(AppConfig):
    name = "anchang.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        checks.register(check_sms_configuration)
