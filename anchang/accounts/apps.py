from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "anchang.accounts"
    label = "accounts"
    verbose_name = "账号与组织"
