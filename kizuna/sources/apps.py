from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "kizuna.sources"
    label = "sources"
