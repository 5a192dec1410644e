from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "anchang.inventory"
    label = "inventory"
    verbose_name = "楼盘与房源"
