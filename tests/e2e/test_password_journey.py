"""In a real browser: an account made by CSV enrolment logs in with its one-time password and is made to
choose its own; later its owner forgets it and resets it through the link of the e-mail (Django's locmem
mail backend in tests: the live server runs in this process, so its outbox is the test's)."""
from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User
from accounts.services import user_require_password_change

from .conftest import PASSWORD, log_in

CHOSEN = "my own passphrase 2026"
AFTER_RESET = "another passphrase 2027"


def fill_new_password(page, password: str) -> None:
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("New password confirmation").fill(password)


@pytest.mark.django_db(transaction=True)
def test_first_login_password_change_then_reset_by_email(world, new_page, live_server):
    world.owner.email = "owner@example.org"
    world.owner.save()
    user_require_password_change(world.owner)
    page = new_page(viewport={"width": 1000, "height": 800})

    # First login with the one-time password: every page leads to the password form until it is changed.
    log_in(page, "owner")
    page.wait_for_url("**/account/password/")
    assert page.get_by_role("heading", level=1).inner_text() == "Choose your password"
    page.goto("/courses/dgm/")
    page.wait_for_url("**/account/password/")
    page.get_by_label("Old password").fill(PASSWORD)
    fill_new_password(page, "short")
    page.get_by_role("button", name="Change my password").click()
    assert page.get_by_role("alert").first.is_visible()  # too short: the validators' message, nothing changed
    page.get_by_label("Old password").fill(PASSWORD)
    fill_new_password(page, CHOSEN)
    page.get_by_role("button", name="Change my password").click()
    page.wait_for_url("**/account/password/done/")
    assert page.get_by_role("heading", level=1).inner_text() == "Password changed"
    page.get_by_role("link", name="Go to my courses").click()
    page.wait_for_url(live_server.url + "/")
    assert page.locator(".course-card", has_text="DGM").is_visible()
    assert not User.objects.get(pk=world.owner.pk).must_change_password

    # Forgotten: reset it by e-mail from the login page.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/account/password/reset/")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_role("button", name="Send me the link").click()
    page.wait_for_url("**/account/password/reset/sent/")
    assert page.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@example.org"]
    link = re.search(r"https?://\S+/account/password/reset/\S+/", mail.outbox[0].body).group(0)
    assert link.startswith(live_server.url)
    page.goto(link)
    page.wait_for_url("**/set-password/")
    fill_new_password(page, AFTER_RESET)
    page.get_by_role("button", name="Set my password").click()
    page.wait_for_url("**/account/password/reset/done/")
    page.get_by_role("link", name="Log in").last.click()
    page.wait_for_url("**/login/")
    log_in(page, "owner", AFTER_RESET)
    page.wait_for_url(live_server.url + "/")
    assert page.locator(".course-card", has_text="DGM").is_visible()

    # The link worked once only.
    page.goto(link)
    assert "does not work any more" in page.locator("main").inner_text()
