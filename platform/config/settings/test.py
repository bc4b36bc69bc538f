"""Test settings: a file SQLite database (a Celery worker process started by a
test reads the same test database), fast password hashing."""
from config.env import env_str

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"].setdefault("TEST", {})  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"]["NAME"] = env_str("DGM_TEST_DB", str(VAR_DIR / "test-web.sqlite3"))  # noqa: F405
GRADING_RETRY_COUNTDOWN_S = 1
# django-axes as in production (the lockout tests test the real limits), recorded in the database: every
# test's rollback (or flush) forgets its failures, so no test is locked out by another's wrong passwords.
AXES_ENABLED = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
