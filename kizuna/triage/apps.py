from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "kizuna.triage"
    label = "triage"
