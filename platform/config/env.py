"""Settings from the environment, failing loudly on bad values (healthchecks' style).

A value that is set but cannot be parsed stops the process with the variable's
name, instead of silently falling back to a default.
"""
from __future__ import annotations

import os
import re
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"environment variable {name} is required")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    low = value.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """sqlite:///relative/or//absolute/path or postgres://user:pass@host:port/name."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
        if not path:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no SQLite file")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path,
                "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"}}
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        name = unquote(parsed.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no database")
        return {"ENGINE": "django.db.backends.postgresql", "NAME": name,
                "USER": unquote(parsed.username or ""), "PASSWORD": unquote(parsed.password or ""),
                "HOST": parsed.hostname or "", "PORT": str(parsed.port or ""), "CONN_MAX_AGE": 60}
    raise ImproperlyConfigured(f"DATABASE_URL={url!r}: scheme must be sqlite or postgres")


def redis_url(name: str, default: str) -> str:
    value = env_str(name, default)
    parsed = urlparse(value)
    if parsed.scheme not in ("redis", "rediss", "unix") or (parsed.scheme != "unix" and not parsed.hostname):
        raise ImproperlyConfigured(f"{name}={value!r} is not a redis:// URL")
    return value


def training_profile(name: str, default: str) -> str:
    """A training profile's name as exercise.toml spells it ([training.profiles.<name>])."""
    value = env_str(name, default)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a profile name (lower-case letters, digits, - and _)")
    return value
