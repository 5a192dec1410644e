from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "anchang.customers"
    label = "customers"
    verbose_name = "客户"
