"""Settings shared by every environment; each value that varies comes from the environment."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, env_list, env_str, redis_url, training_profile

PLATFORM_DIR = Path(__file__).resolve().parent.parent.parent
REPO_ROOT = PLATFORM_DIR.parent
VAR_DIR = Path(env_str("DGM_VAR_DIR", str(REPO_ROOT / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-development-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
    "courses",
    "catalog",
    "submissions",
    "leaderboard",
    "workers",
    "csp",
    "axes",  # django-axes: login and API-token guessing (accounts/ratelimit.py)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.uploads.RequestSizeLimitMiddleware",  # an oversized body: 413 before anything reads it
    "accounts.middleware.ApiTokenThrottleMiddleware",  # token guesses count toward a lockout
    "accounts.middleware.PasswordChangeRequiredMiddleware",  # CSV-enrolled accounts choose their password
    "axes.middleware.AxesMiddleware",  # last, as axes wants: a login refused for a lockout becomes a 429 page
]
# Content-Security-Policy (django-csp): scripts, styles, fonts and images from the site's own static files
# only (KaTeX and highlight.js are served from there), no inline script or style attributes, no plugins,
# no framing, forms and fetches to the site only. Feedback can therefore never load anything from elsewhere.
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": ["'none'"], "script-src": ["'self'"], "style-src": ["'self'"], "font-src": ["'self'"],
    "img-src": ["'self'", "data:"], "connect-src": ["'self'"], "form-action": ["'self'"],
    "frame-ancestors": ["'none'"], "base-uri": ["'none'"], "object-src": ["'none'"],
}}

ROOT_URLCONF = "config.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [PLATFORM_DIR / "templates"],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'platform.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out client even with the right password
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "course-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PLATFORM_DIR / "static"]
# KaTeX and highlight.js from the npm registry at set-up time (`make assets`), never from a CDN and
# never committed; served only if installed: without them the pages show the TeX and plain code.
NPM_MODULES = REPO_ROOT / "build" / "npm" / "node_modules"
STATICFILES_DIRS += [(prefix, NPM_MODULES / sub) for prefix, sub in
                     (("vendor/katex", "katex/dist"), ("vendor/hljs", "@highlightjs/cdn-assets"))
                     if (NPM_MODULES / sub).is_dir()]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))  # collectstatic's output (prod)

# Uploads: the grader's own limit is 1 MB; the web refuses bigger files before reading them.
SUBMISSION_MAX_BYTES = env_int("DGM_SUBMISSION_MAX_BYTES", 1_000_000, minimum=1)
# Any request body (config/uploads.py): a submission or an enrolment CSV (1 MB) and the form around it for a
# signed-in user or a token; far less for anonymous visitors, whose only forms are log in and reset.
REQUEST_MAX_BYTES = SUBMISSION_MAX_BYTES + 64 * 1024
ANONYMOUS_REQUEST_MAX_BYTES = env_int("DGM_ANONYMOUS_REQUEST_MAX_BYTES", 64 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES  # an accepted upload stays in memory: never a temporary file
FILE_UPLOAD_HANDLERS = [
    "config.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Accounts: personal API tokens expire after API_TOKEN_DAYS (0: never; the token page offers a choice).
API_TOKEN_DAYS = env_int("DGM_API_TOKEN_DAYS", 90, minimum=0)
# Guessing (django-axes, accounts/ratelimit.py): LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address, or API_TOKEN_FAILURE_LIMIT unknown tokens from one address, lock that out for the cool-off time
# (counted since the last success). TRUSTED_PROXY_COUNT: reverse proxies in front that append the client's
# address to X-Forwarded-For (0: the connection's address is the client's).
LOGIN_FAILURE_LIMIT = env_int("DGM_LOGIN_FAILURE_LIMIT", 5, minimum=1)
API_TOKEN_FAILURE_LIMIT = env_int("DGM_API_TOKEN_FAILURE_LIMIT", 10, minimum=1)
TRUSTED_PROXY_COUNT = env_int("DGM_TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = "accounts.ratelimit.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DGM_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.ratelimit.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.ratelimit.client_address"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "source"]  # never stored in its log: passwords, code
AXES_VERBOSE = False

# E-mail (password reset): printed to the console unless an SMTP host is set.
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "")
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                        else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", EMAIL_PORT == 587)  # STARTTLS
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", EMAIL_PORT == 465)  # TLS from the start
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("DJANGO_EMAIL_USE_TLS and DJANGO_EMAIL_USE_SSL cannot both be on")
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DJANGO_EMAIL_FROM", "DGM course <noreply@localhost>")
PASSWORD_RESET_TIMEOUT = env_int("DJANGO_PASSWORD_RESET_HOURS", 24, minimum=1) * 3600

# Grading
REDIS_URL = redis_url("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "quick"  # workers.queues: quick, training, gpu
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("DGM_BROKER_VISIBILITY_S", 3600, minimum=60)}
CELERY_TASK_ALWAYS_EAGER = False
GRADING_SEED = env_int("DGM_GRADING_SEED", 20261122)
GRADING_WARM_CONTAINERS = env_int("DGM_WARM_CONTAINERS", 0, minimum=0)  # pre-started, quick queue only
TRAINING_CPU_SHARES = env_int("DGM_TRAINING_CPU_SHARES", 256, minimum=2)  # training sandboxes' CPU weight (1024 quick)
# A worker host given the sandbox images by name (built elsewhere, or by the compose file's sandbox-image job);
# empty: the worker builds them from docker/sandbox when their inputs change (grader.image).
SANDBOX_IMAGES = {"cpu": env_str("DGM_SANDBOX_IMAGE", ""), "cuda": env_str("DGM_SANDBOX_IMAGE_CUDA", "")}
GPU_DEVICE = env_str("DGM_GPU_DEVICE", "")  # a gpu-queue worker's own GPU (index or UUID): one job per GPU
GRADING_INFRA_RETRIES = env_int("DGM_INFRA_RETRIES", 5, minimum=0)
GRADING_RETRY_COUNTDOWN_S = env_int("DGM_RETRY_COUNTDOWN_S", 30, minimum=0)
GRADING_STALE_AFTER_S = env_int("DGM_STALE_AFTER_S", 1800, minimum=1)  # a queued job is sent again after this
# Liveness: a running job's process writes a heartbeat every JOB_HEARTBEAT_S (and its progress); the sweep
# (every SWEEP_EVERY_S) requeues a job silent for JOB_HEARTBEAT_TIMEOUT_S. Worker nodes every NODE_HEARTBEAT_S.
JOB_HEARTBEAT_S = env_int("DGM_JOB_HEARTBEAT_S", 3, minimum=1)
JOB_HEARTBEAT_TIMEOUT_S = env_int("DGM_JOB_HEARTBEAT_TIMEOUT_S", 60, minimum=5)
NODE_HEARTBEAT_S = env_int("DGM_NODE_HEARTBEAT_S", 10, minimum=1)
SWEEP_EVERY_S = env_int("DGM_SWEEP_EVERY_S", 30, minimum=1)
# Where a worker materialises exercise bundles (workers.bundles); any local disk will do.
BUNDLE_CACHE_DIR = Path(env_str("DGM_BUNDLE_CACHE", str(VAR_DIR / "bundles")))
# The training profile this platform trains at: stored with each training job (the worker trains at the
# job's profile, never at a setting of its own); the leaderboard compares entries of this profile only,
# since FID depends on N and the training budget.
TRAINING_PROFILE = training_profile("DGM_TRAINING_PROFILE", "cpu")
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {"task": "workers.tasks.sweep_jobs", "schedule": float(SWEEP_EVERY_S), "options": {"queue": "quick"}},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    # django-axes logs every login at INFO; failures and lockouts are warnings, and those are kept
    "loggers": {"axes": {"level": env_str("DGM_AXES_LOG_LEVEL", "WARNING")}},
}
