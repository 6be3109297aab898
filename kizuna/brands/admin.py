from django.contrib import admin

from kizuna.brands.models import Brand, Department, Rule


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "workspace"]


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ["key", "brand", "query", "enabled", "workspace"]
    list_filter = ["workspace", "enabled"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "workspace"]
