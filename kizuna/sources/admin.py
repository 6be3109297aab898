from django.contrib import admin

from kizuna.sources.models import Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    # Credentials are encrypted and never shown; they are set through the source forms.
    list_display = ["name", "platform", "workspace", "enabled", "last_post_at", "last_error_at"]
    exclude = ["credentials_encrypted"]
    readonly_fields = ["cursor", "last_post_at", "last_error", "last_error_at"]
