"""Accounts and security: guessing passwords and API tokens is locked out (django-axes), tokens expire and
the token page is never cached nor re-posted, CSV-enrolled accounts choose their password at first login,
passwords can be changed and reset by e-mail."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.selectors import user_get_by_api_token
from accounts.services import api_token_create, user_require_password_change

from .conftest import SOLUTION

PASSWORD = "correct horse battery"  # the world fixture's
NEW_PASSWORD = "a brand new passphrase 42"


def log_in(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def logged_in_as(client) -> str | None:
    user = client.get("/").wsgi_request.user
    return user.username if user.is_authenticated else None


# --- logins ---------------------------------------------------------------------------------------------

def test_forty_wrong_passwords_then_the_right_one_do_not_log_in(client, world):
    statuses = [log_in(client, "owner", f"guess {i}").status_code for i in range(40)]
    assert statuses[0] == 200  # the form again, "did not match"
    assert 429 in statuses
    response = log_in(client, "owner", PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode() and int(response["Retry-After"]) >= 60
    assert logged_in_as(client) is None


def test_the_lockout_is_per_username_and_address(client, world, settings):
    for i in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(client, "owner", f"guess {i}")
    assert log_in(client, "owner", PASSWORD).status_code == 429
    # someone else behind the same address (a classroom's NAT) still logs in
    assert log_in(client, "peer", PASSWORD).status_code == 302
    client.logout()
    # and the owner from another address
    assert log_in(client, "owner", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302


def test_a_few_typos_do_not_lock_out_and_success_resets_the_count(client, world, settings):
    for _ in range(2):
        for i in range(settings.LOGIN_FAILURE_LIMIT - 1):
            assert log_in(client, "owner", f"typo {i}").status_code == 200
        assert log_in(client, "owner", PASSWORD).status_code == 302
        client.logout()


def test_the_admin_login_is_locked_out_too(client, world, settings):
    world.instructor.is_staff = True
    world.instructor.save()
    for i in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "teacher", "password": f"guess {i}"})
    response = client.post("/admin/login/", {"username": "teacher", "password": PASSWORD})
    assert response.status_code == 429 and logged_in_as(client) is None


def test_the_client_address_behind_trusted_proxies(client, world, settings):
    """With one trusted proxy, the address it appended counts, not what the client wrote before it."""
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(settings.LOGIN_FAILURE_LIMIT):
        log_in(client, "owner", f"guess {i}", HTTP_X_FORWARDED_FOR=f"10.9.9.{i}, 203.0.113.5")
    assert log_in(client, "owner", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert log_in(client, "owner", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302


# --- API tokens -----------------------------------------------------------------------------------------

def api_get(client, token, **extra):
    return client.get("/api/submissions/1/", headers={"Authorization": f"Token {token}"}, **extra)


def test_token_guessing_is_locked_out_by_address(client, world, settings):
    for i in range(settings.API_TOKEN_FAILURE_LIMIT):
        assert api_get(client, f"dgm_guess{i}").status_code == 401
    response = api_get(client, world.tokens["owner"])  # a valid token, from the guessing address
    assert response.status_code == 429 and "Too many failed attempts" in response.json()["error"]
    response = client.post("/api/submissions/", {"exercise": "vae-reparam"},
                           headers={"Authorization": f"Token {world.tokens['peer']}"})
    assert response.status_code == 429
    # another address is not affected
    assert api_get(client, world.tokens["owner"], REMOTE_ADDR="198.51.100.8").status_code == 404  # no such id


def test_revoked_and_expired_tokens_are_refused_but_not_counted_as_guesses(client, world, settings):
    old, old_plain = api_token_create(user=world.owner, days=30)
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for _ in range(settings.API_TOKEN_FAILURE_LIMIT + 3):
        assert api_get(client, old_plain).status_code == 401
    assert user_get_by_api_token(token=old_plain) is None
    assert api_get(client, world.tokens["owner"]).status_code == 404  # still let in: not locked out


def test_tokens_expire(world, settings):
    token, plain = api_token_create(user=world.owner)
    assert token.expires_at is not None
    assert timedelta(days=settings.API_TOKEN_DAYS - 1) < token.expires_at - timezone.now() <= \
        timedelta(days=settings.API_TOKEN_DAYS)
    assert user_get_by_api_token(token=plain) == world.owner
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert user_get_by_api_token(token=plain) is None
    forever, forever_plain = api_token_create(user=world.owner, days=0)
    assert forever.expires_at is None and user_get_by_api_token(token=forever_plain) == world.owner


def test_an_expired_token_cannot_submit(client, world, enqueued):
    token = ApiToken.objects.get(user=world.owner)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post("/api/submissions/", {"exercise": "vae-reparam", "file": _upload(SOLUTION)},
                           headers={"Authorization": f"Token {world.tokens['owner']}"})
    assert response.status_code == 401 and enqueued == []


# --- the token page -------------------------------------------------------------------------------------

def test_the_token_page_is_not_cached_and_reloading_creates_nothing(client, world):
    client.force_login(world.outsider)
    before = ApiToken.objects.filter(user=world.outsider).count()
    response = client.post("/account/tokens/", {"name": "laptop", "days": "30"})
    assert response.status_code == 302 and response["Location"] == "/account/tokens/"
    assert "no-store" in response["Cache-Control"]
    shown = client.get("/account/tokens/")
    assert "no-store" in shown["Cache-Control"]
    created = shown.context["created"]
    assert created.startswith("dgm_") and created in shown.content.decode()
    assert user_get_by_api_token(token=created) == world.outsider
    token = ApiToken.objects.get(user=world.outsider, name="laptop")
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    again = client.get("/account/tokens/")  # a reload: no new token, the old one not shown again
    assert again.context["created"] is None and created not in again.content.decode()
    assert ApiToken.objects.filter(user=world.outsider).count() == before + 1


@pytest.mark.parametrize("value", ["abc", "", "-1", "1.5", "²", "9" * 40, "0x10"])
def test_bad_revoke_values_are_refused_without_an_error(client, world, value):
    client.force_login(world.owner)
    response = client.post("/account/tokens/", {"revoke": value}, follow=True)
    assert response.status_code == 200 and "No such token" in response.content.decode()
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0


def test_only_ones_own_token_can_be_revoked(client, world):
    peer_token = ApiToken.objects.get(user=world.peer)
    own = ApiToken.objects.get(user=world.owner)
    client.force_login(world.owner)
    client.post("/account/tokens/", {"revoke": str(peer_token.pk)})
    assert ApiToken.objects.get(pk=peer_token.pk).revoked_at is None
    client.post("/account/tokens/", {"revoke": str(own.pk)})
    assert ApiToken.objects.get(pk=own.pk).revoked_at is not None


@pytest.mark.parametrize("days", ["abc", "3", "99999999999999999999", "-7"])
def test_a_bad_lifetime_creates_no_token(client, world, days):
    client.force_login(world.owner)
    before = ApiToken.objects.count()
    response = client.post("/account/tokens/", {"name": "x", "days": days}, follow=True)
    assert response.status_code == 200 and "Choose how long" in response.content.decode()
    assert ApiToken.objects.count() == before


# --- first login after CSV enrolment --------------------------------------------------------------------

def test_a_flagged_account_must_choose_its_password_first(client, world):
    user_require_password_change(world.owner)
    assert User.objects.get(pk=world.owner.pk).must_change_password
    assert log_in(client, "owner", PASSWORD).status_code == 302
    for path in ("/", "/courses/dgm/", "/account/tokens/", "/courses/dgm/vae-reparam/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/account/password/", path
    assert client.get("/api/submissions/1/").status_code == 403
    page = client.get("/account/password/")
    assert page.status_code == 200 and "Choose your password" in page.content.decode()
    response = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                  "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/account/password/done/"
    assert not User.objects.get(pk=world.owner.pk).must_change_password
    assert client.get("/").status_code == 200  # still logged in, and free to go anywhere
    client.logout()
    assert log_in(client, "owner", NEW_PASSWORD).status_code == 302


def test_a_flagged_account_can_still_log_out(client, world):
    user_require_password_change(world.owner)
    client.force_login(world.owner)
    assert client.post("/logout/").status_code == 302
    assert logged_in_as(client) is None


def test_a_wrong_old_password_changes_nothing(client, world):
    client.force_login(world.owner)
    response = client.post("/account/password/", {"old_password": "nope", "new_password1": NEW_PASSWORD,
                                                  "new_password2": NEW_PASSWORD})
    assert response.status_code == 200 and "incorrectly" in response.content.decode()
    assert User.objects.get(pk=world.owner.pk).check_password(PASSWORD)


def test_password_change_needs_a_login(client):
    response = client.get("/account/password/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- reset by e-mail ------------------------------------------------------------------------------------

def test_password_reset_by_email(client, world):
    world.owner.email = "owner@example.org"
    world.owner.save()
    user_require_password_change(world.owner)
    assert "Forgot your password?" in client.get("/login/").content.decode()
    response = client.post("/account/password/reset/", {"email": "owner@example.org"})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@example.org"]
    link = re.search(r"http://testserver(/account/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                                        "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/done/"
    owner = User.objects.get(pk=world.owner.pk)
    assert owner.check_password(NEW_PASSWORD) and not owner.must_change_password
    assert "does not work any more" in client.get(link, follow=True).content.decode()  # used once only


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, world):
    response = client.post("/account/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/sent/"
    assert mail.outbox == []


def test_email_settings_come_from_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    from .conftest import PLATFORM_DIR

    code = ("import django.conf, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.base'; "
            "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, "
            "s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.DEFAULT_FROM_EMAIL)")

    def read(**env):
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_EMAIL")}
        done = subprocess.run([sys.executable, "-c", code], cwd=PLATFORM_DIR, env={**clean, **env},
                              capture_output=True, text=True)
        return done.stdout.split() if done.returncode == 0 else done.stderr

    assert read()[0] == "django.core.mail.backends.console.EmailBackend"  # no host: printed, never sent
    smtp = read(DJANGO_EMAIL_HOST="smtp.example.org", DJANGO_EMAIL_PORT="465", DJANGO_EMAIL_FROM="course@x.org")
    assert smtp == ["django.core.mail.backends.smtp.EmailBackend", "smtp.example.org", "465", "False", "True",
                    "course@x.org"]
    assert "cannot both be on" in read(DJANGO_EMAIL_HOST="h", DJANGO_EMAIL_USE_TLS="1", DJANGO_EMAIL_USE_SSL="1")


def _upload(data: bytes, name: str = "solution.py"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_the_admin_shows_and_sets_the_first_login_flag(client, world):
    admin = User.objects.create_superuser("root", "root@example.org", "an admin passphrase 1")
    client.force_login(admin)
    page = client.get(f"/admin/accounts/user/{world.owner.pk}/change/")
    assert page.status_code == 200 and 'name="must_change_password"' in page.content.decode()
    assert client.get("/admin/accounts/user/?must_change_password__exact=1").status_code == 200
    assert client.get("/admin/accounts/apitoken/").status_code == 200
