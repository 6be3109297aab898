from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "kizuna.replies"
    label = "replies"
