"""Writes for accounts: users, the first-login password change, and personal API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
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


def user_require_password_change(user: User) -> None:
    """The account must choose a new password at its next page view (one made with a password someone
    else knows, e.g. CSV enrolment's one-time password). accounts.middleware enforces it."""
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    user.must_change_password = True


def user_password_changed(*, user: User) -> None:
    """The user chose their own password (password change or reset): the first-login flag is cleared."""
    User.objects.filter(pk=user.pk, must_change_password=True).update(must_change_password=False)
    user.must_change_password = False


def api_token_create(*, user: User, name: str = "default", days: int | None = None) -> tuple[ApiToken, str]:
    """Returns the stored token and its plain text, which is never stored or shown again.

    It expires after `days` (default settings.API_TOKEN_DAYS; 0 there: tokens never expire)."""
    days = settings.API_TOKEN_DAYS if days is None else days
    expires_at = timezone.now() + timedelta(days=days) if days > 0 else None
    plain = "dgm_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=plain[4:12], digest=token_digest(plain),
                                    expires_at=expires_at)
    return token, plain


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
