"""Password and API-token guessing, limited by django-axes (settings: AXES_*, in config/settings/base.py).

A login failure counts against the pair (username, client address): a student mistyping cannot lock out the
rest of a class behind one NAT address, and nobody can lock another user out from elsewhere. An API-token
failure (a token never issued here) counts under a pseudo-username that no account can have, so token
guesses count against the client address alone. Either way the client is refused for AXES_COOLOFF_TIME
once it has reached its limit, even with the right password or a valid token.
"""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# Brackets and a space: UnicodeUsernameValidator allows none of them, so no account has this name.
API_TOKEN_CREDENTIAL = "[api token]"


def _is_api(request: HttpRequest, credentials: dict | None) -> bool:
    username = (credentials or {}).get("username")
    return username == API_TOKEN_CREDENTIAL or request.path.startswith("/api/")


def failure_limit(request: HttpRequest, credentials: dict | None) -> int:
    """AXES_FAILURE_LIMIT: failures before a lockout, one limit for passwords and one for tokens."""
    return settings.API_TOKEN_FAILURE_LIMIT if _is_api(request, credentials) else settings.LOGIN_FAILURE_LIMIT


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 Too Many Requests, as JSON for the API, as a page for people."""
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    if _is_api(request, credentials):
        response: HttpResponse = JsonResponse(
            {"error": f"Too many failed attempts from your address: try again in {minutes} minutes."}, status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address. Behind TRUSTED_PROXY_COUNT reverse proxies (each
    appending the address it saw to X-Forwarded-For) it is the entry that the outermost proxy appended;
    entries left of it were written by the client and are never trusted."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
