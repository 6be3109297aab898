from django.apps import AppConfig


class BrandsConfig(AppConfig):
    name = "kizuna.brands"
    label = "brands"
