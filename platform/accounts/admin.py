from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's, with the first-login flag: an operator can require a new password (or clear the flag)."""

    fieldsets = [*DjangoUserAdmin.fieldsets, ("First login", {"fields": ["must_change_password"]})]
    list_filter = [*DjangoUserAdmin.list_filter, "must_change_password"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = ("digest", "prefix")
