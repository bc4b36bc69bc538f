"""Account pages: personal API tokens, and Django's password views with the first-login flag cleared."""
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .selectors import api_token_get_for_owner, api_token_list
from .services import api_token_create, api_token_revoke, user_password_changed

NEW_TOKEN_SESSION_KEY = "accounts:new-token"
TOKEN_DAYS_CHOICES = (7, 30, 90, 365)


def token_days_choices() -> list[int]:
    """The lifetimes offered on the token page, in days: the usual ones and the site's default (0: never
    expires, offered only where the site's default is so)."""
    return sorted({*TOKEN_DAYS_CHOICES, settings.API_TOKEN_DAYS})


@never_cache  # the page can hold a token shown once: no browser or proxy may keep a copy
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """POST creates or revokes, then redirects (POST-redirect-GET): reloading the page never creates a
    token. A new token's text waits in the session for that one GET and is gone from there after it."""
    if request.method == "POST":
        if "revoke" in request.POST:
            token = api_token_get_for_owner(user=request.user, token_id=request.POST.get("revoke"))
            if token is None:
                messages.error(request, "No such token.")
            else:
                api_token_revoke(token=token)
                messages.success(request, f"The token dgm_{token.prefix}… is revoked.")
            return redirect("token-list")
        days_text = request.POST.get("days") or str(settings.API_TOKEN_DAYS)
        if not re.fullmatch(r"[0-9]{1,4}", days_text) or int(days_text) not in token_days_choices():
            messages.error(request, "Choose how long the token lasts from the list.")
            return redirect("token-list")
        _, plain = api_token_create(user=request.user, name=request.POST.get("name", "").strip() or "default",
                                    days=int(days_text))
        request.session[NEW_TOKEN_SESSION_KEY] = plain
        return redirect("token-list")
    created = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    return render(request, "accounts/tokens.html", {
        "tokens": api_token_list(user=request.user), "created": created,
        "days_choices": token_days_choices(), "default_days": settings.API_TOKEN_DAYS})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=form.user)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=form.user)
        return response
