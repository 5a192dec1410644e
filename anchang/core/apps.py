from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "anchang.core"
    label = "core"
    verbose_name = "核心"
