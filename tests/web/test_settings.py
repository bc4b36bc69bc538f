import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int, redis_url


def test_bad_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG", False) is True


def test_bad_integer_fails_loudly(monkeypatch):
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "-3")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env_int("X_NUM", 1, minimum=0)


def test_database_urls():
    pg = database_from_url("postgres://dgm:s%40cret@db.local:5433/course")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == ("dgm", "s@cret", "db.local", "5433",
                                                                                "course")
    assert database_from_url("sqlite:////abs/db.sqlite3")["NAME"] == "/abs/db.sqlite3"
    assert database_from_url("sqlite:///var/db.sqlite3")["NAME"] == "var/db.sqlite3"
    with pytest.raises(ImproperlyConfigured, match="scheme"):
        database_from_url("mysql://x/y")


def test_redis_url_is_checked(monkeypatch):
    monkeypatch.setenv("X_REDIS", "localhost:6379")
    with pytest.raises(ImproperlyConfigured, match="X_REDIS"):
        redis_url("X_REDIS", "redis://127.0.0.1:6379/0")


def test_prod_settings_refuse_a_missing_secret(monkeypatch):
    import importlib
    import sys

    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    sys.modules.pop("config.settings.prod", None)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        importlib.import_module("config.settings.prod")
    sys.modules.pop("config.settings.prod", None)


def test_celery_settings_for_reliable_delivery(settings):
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.broker_url == settings.REDIS_URL
