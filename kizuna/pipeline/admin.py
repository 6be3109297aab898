from django.contrib import admin

from kizuna.pipeline.models import QuarantinedPayload


@admin.register(QuarantinedPayload)
class QuarantinedPayloadAdmin(admin.ModelAdmin):
    list_display = ["received_at", "workspace", "origin", "reason", "seen_count"]
    readonly_fields = ["workspace", "source", "origin", "reason", "payload", "digest", "seen_count"]
