"""Account middleware: API-token guesses count toward a lockout, and an account flagged at creation
(CSV enrolment) must set its own password before it sees any other page."""
from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.http import JsonResponse
from django.shortcuts import redirect

from .ratelimit import API_TOKEN_CREDENTIAL, lockout_response
from .selectors import api_token_was_issued


def sent_api_token(request) -> str | None:
    """The token of an `Authorization: Token <token>` header (as submissions/api.py reads it), else None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "token" else None


class ApiTokenThrottleMiddleware:
    """A client locked out for token guessing is refused (429) before its token is looked at; a token that
    was never issued here is recorded as a failure with django-axes, against the client's address.

    Revoked and expired tokens are refused by the API but not counted: they were issued, so they are not
    guesses, and a notebook still holding an old token should not lock its user's address out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = sent_api_token(request)
        if token is None:
            return self.get_response(request)
        credentials = {"username": API_TOKEN_CREDENTIAL}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return lockout_response(request, None, credentials)
        response = self.get_response(request)
        if not api_token_was_issued(token=token):
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        return response


class PasswordChangeRequiredMiddleware:
    """Sends a user whose account is flagged (User.must_change_password) to the password change form
    from every page but that form, its done page and logging out; the API answers 403."""

    ALLOWED = {"password_change", "password_change_done", "logout"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not getattr(user, "must_change_password", False):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.ALLOWED and not match.namespace:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "Set your own password on the site first (/account/password/)."},
                                status=403)
        return redirect("password_change")
