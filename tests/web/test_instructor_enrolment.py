"""CSV enrolment's account rules: a file never takes over an account (no link without a matching e-mail
address, nothing written into an existing account), its messages do not tell which usernames or
addresses exist, and a created account must choose its own password at first login."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from courses.models import Enrollment

URL = reverse("courses:enrol_csv", kwargs={"slug": "dgm"})


def _upload(client, text):
    return client.post(URL, {"file": SimpleUploadedFile("s.csv", text.encode(), content_type="text/csv")})


@pytest.fixture
def accounts(world):
    world.peer.email = "peer@example.org"
    world.peer.save()
    return world  # the outsider has no e-mail address


def test_an_account_without_an_email_is_never_linked_nor_written(client, accounts):
    w = accounts
    client.force_login(w.instructor)
    response = _upload(client, "outsider,attacker@example.org\n")
    assert response.status_code == 400 and "Nothing was stored" in response.content.decode()
    w.outsider.refresh_from_db()
    assert w.outsider.email == "" and not Enrollment.objects.filter(user=w.outsider).exists()


def test_every_conflict_reads_the_same(client, accounts):
    """An existing username with another address, an existing username without one, a new username with an
    address in use: one message, naming neither the username nor the address."""
    client.force_login(accounts.instructor)
    html = _upload(client, "peer,other@example.org\noutsider,x@example.org\nnewbie,PEER@example.org\n"
                           "fresh,fresh@example.org\n").content.decode()
    for line in (1, 2, 3):
        assert f"line {line}: this username and e-mail address cannot be enrolled together" in html
    assert "line 4" not in html
    for leak in ("exists", "belongs", "different", "another account"):
        assert leak not in html
    assert not User.objects.filter(username="fresh").exists()  # a bad file stores nothing


def test_a_matching_account_is_linked_unchanged_and_new_ones_must_change_their_password(client, accounts):
    w = accounts
    before = User.objects.filter(pk=w.peer.pk).values().get()
    client.force_login(w.instructor)
    response = _upload(client, "PEER,Peer@Example.org,Someone Else\nada,ada@example.org,Ada Lovelace\n")
    assert response.status_code == 200
    rows = {r.username: r for r in response.context["enrolled"]}
    assert not rows["peer"].created and rows["peer"].already_enrolled and rows["peer"].password is None
    assert User.objects.filter(pk=w.peer.pk).values().get() == before  # name and address untouched
    ada = User.objects.get(username="ada")
    assert ada.must_change_password and not User.objects.get(pk=w.peer.pk).must_change_password
    assert Enrollment.objects.get(user=ada, course=w.course).role == "student"
    # the new student logs in with the one-time password and is sent to choose a new one first
    client.logout()
    assert client.post("/login/", {"username": "ada", "password": rows["ada"].password}).status_code == 302
    first = client.get("/courses/dgm/")
    assert first.status_code == 302 and "password" in first["Location"]
