"""Production: DEBUG off, every secret from the environment (a missing or weak secret key stops the
start), static files served by whitenoise from collectstatic's output, the deploy checks' settings.

Behind a TLS proxy (the usual deployment) leave DJANGO_SECURE_COOKIES on and set DJANGO_HSTS_SECONDS and
DJANGO_SSL_REDIRECT as the proxy allows; `make run` and the compose file on loopback turn cookies'
Secure flag off, since they serve plain http on 127.0.0.1 (docs/deploying.md).
"""
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str

from .base import *  # noqa: F403
from .base import MIDDLEWARE

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")  # required: no default here
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith(("insecure", "django-insecure")):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 random characters in production "
                               "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')")
env_str("DATABASE_URL")  # required: name the database (PostgreSQL in production; SQLite for `make run`)

MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # hashed names, compressed copies, served with far-future cache headers by whitenoise
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):  # the proxy terminates TLS and says so in this header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o for o in env_str("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
