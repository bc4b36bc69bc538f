"""Reads for accounts."""
from __future__ import annotations

import re

from django.db.models import Q
from django.utils import timezone

from .models import ApiToken, User
from .services import token_digest

TOKEN_MAX_CHARS = 200


def user_get_by_api_token(*, token: str) -> User | None:
    """The active user of a token that is neither revoked nor expired; None otherwise."""
    if not token or len(token) > TOKEN_MAX_CHARS:
        return None
    now = timezone.now()
    found = (ApiToken.objects.select_related("user")
             .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), digest=token_digest(token),
                     revoked_at__isnull=True, user__is_active=True).first())
    if found is None:
        return None
    ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


def api_token_was_issued(*, token: str) -> bool:
    """Whether this token was ever issued here (even if revoked or expired since). A token that never was is
    a guess (or a typo): accounts.middleware counts those against the client's address."""
    return bool(token) and len(token) <= TOKEN_MAX_CHARS and \
        ApiToken.objects.filter(digest=token_digest(token)).exists()


def api_token_list(*, user: User):
    """The user's tokens that are not revoked, newest first (expired ones too, marked on the page)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")


def api_token_get_for_owner(*, user: User, token_id: str | None) -> ApiToken | None:
    """The user's own token with this id, as a form posts it (text); None for anything else."""
    if not isinstance(token_id, str) or not re.fullmatch(r"[0-9]{1,18}", token_id):  # not str.isdigit: "²"
        return None
    return ApiToken.objects.filter(user=user, pk=int(token_id)).first()
