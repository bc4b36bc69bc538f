"""Writes for accounts: users and personal API tokens."""
from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, User


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_create(*, username: str, password: str | None, email: str = "", first_name: str = "",
                last_name: str = "") -> User:
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean()
    user.save()
    return user


def api_token_create(*, user: User, name: str = "default") -> tuple[ApiToken, str]:
    """Returns the stored token and its plain text, which is never stored or shown again."""
    plain = "dgm_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=plain[4:12], digest=token_digest(plain))
    return token, plain


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
