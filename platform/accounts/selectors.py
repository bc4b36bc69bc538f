"""Reads for accounts."""
from __future__ import annotations

from django.utils import timezone

from .models import ApiToken, User
from .services import token_digest


def user_get_by_api_token(*, token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    found = (ApiToken.objects.select_related("user")
             .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True).first())
    if found is None:
        return None
    ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.user


def api_token_list(*, user: User):
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
