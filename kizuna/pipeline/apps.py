from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "kizuna.pipeline"
    label = "pipeline"
