from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "kizuna.inbox"
    label = "inbox"
