"""The API: token auth, and authorisation with an owner, a peer, an outsider (and the instructor)."""
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from submissions.models import Submission

from .conftest import SOLUTION

pytestmark = pytest.mark.usefixtures("enqueued")


def post(client, token, **fields):
    headers = {"Authorization": f"Token {token}"} if token else {}
    return client.post("/api/submissions/", data=fields, headers=headers)


def upload(name="solution.py", data=SOLUTION):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def get(client, token, pk):
    headers = {"Authorization": f"Token {token}"} if token else {}
    return client.get(f"/api/submissions/{pk}/", headers=headers)


def test_create_requires_a_valid_token(client, world):
    assert post(client, None, exercise="vae-reparam", file=upload()).status_code == 401
    response = post(client, "dgm_not-a-token", exercise="vae-reparam", file=upload())
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert Submission.objects.count() == 0


def test_create_as_owner(client, world):
    response = post(client, world.tokens["owner"], exercise="vae-reparam", file=upload())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["exercise"] == "vae-reparam" and body["course"] == "dgm"
    assert body["url"].endswith(f"/api/submissions/{body['id']}/")
    assert Submission.objects.get(pk=body["id"]).user == world.owner


def test_create_as_outsider_is_refused_and_stores_nothing(client, world):
    response = post(client, world.tokens["outsider"], exercise="vae-reparam", file=upload())
    assert response.status_code == 404
    assert "in your courses" in response.json()["error"]
    assert Submission.objects.count() == 0


def test_create_needs_both_fields(client, world):
    response = post(client, world.tokens["owner"], exercise="vae-reparam")
    assert response.status_code == 400 and "`file`" in response.json()["error"]


def test_revoked_token_is_refused(client, world):
    from accounts.models import ApiToken
    from accounts.services import api_token_revoke

    for token in ApiToken.objects.filter(user=world.owner):
        api_token_revoke(token=token)
    assert post(client, world.tokens["owner"], exercise="vae-reparam", file=upload()).status_code == 401


def test_detail_owner_instructor_peer_outsider(client, world):
    pk = post(client, world.tokens["owner"], exercise="vae-reparam", file=upload()).json()["id"]
    assert get(client, world.tokens["owner"], pk).status_code == 200
    assert get(client, world.tokens["instructor"], pk).status_code == 200
    for who in ("peer", "outsider"):
        response = get(client, world.tokens[who], pk)
        assert response.status_code == 404, who
        assert "vae-reparam" not in response.content.decode()
    assert get(client, None, pk).status_code == 401
    assert get(client, "dgm_wrong", pk).status_code == 401
    assert get(client, world.tokens["owner"], pk + 1000).status_code == 404


def test_detail_with_the_browser_session(client, world):
    pk = post(client, world.tokens["owner"], exercise="vae-reparam", file=upload()).json()["id"]
    client.force_login(world.owner)
    assert client.get(f"/api/submissions/{pk}/").json()["status"] == "queued"
    client.force_login(world.peer)
    assert client.get(f"/api/submissions/{pk}/").status_code == 404


def test_create_is_post_only_and_detail_get_only(client, world):
    assert client.get("/api/submissions/").status_code == 405
    assert client.post("/api/submissions/1/").status_code == 405


def test_an_exercise_in_two_courses_needs_the_course(client, world):
    from catalog.services import course_exercise_create
    from courses.services import course_create, enrollment_create

    other = course_create(slug="other", title="Other")
    enrollment_create(user=world.owner, course=other)
    course_exercise_create(course=other, exercise=world.exercise)
    response = post(client, world.tokens["owner"], exercise="vae-reparam", file=upload())
    assert response.status_code == 400 and "`course`" in response.json()["error"]
    response = post(client, world.tokens["owner"], exercise="vae-reparam", course="other", file=upload())
    assert response.status_code == 201 and response.json()["course"] == "other"


def test_hidden_checks_are_filtered_in_the_api(client, world):
    from datetime import timedelta

    from django.utils import timezone

    pk = post(client, world.tokens["owner"], exercise="vae-reparam", file=upload()).json()["id"]
    result = {"status": "graded", "score": 5.0, "max_score": 5.0, "execution_time": 1.0, "output": "",
              "tests": [{"name": "shape", "title": "Shape", "score": 2.0, "max_score": 2.0, "status": "passed",
                         "output": "ok", "visibility": "visible"},
                        {"name": "secret_probe", "title": "Secret probe on tiny sigmas", "score": 3.0,
                         "max_score": 3.0, "status": "passed", "output": "expected 0.001", "visibility": "hidden"}],
              "provenance": {"seed": 1}}
    Submission.objects.filter(pk=pk).update(status="graded", result=result, score=5.0, max_score=5.0)
    world.ce.deadline = timezone.now() + timedelta(days=1)
    world.ce.save()
    student_view = json.dumps(get(client, world.tokens["owner"], pk).json())
    assert "secret_probe" not in student_view and "tiny sigmas" not in student_view
    assert "expected 0.001" not in student_view and "provenance" not in student_view
    body = get(client, world.tokens["owner"], pk).json()["result"]
    assert body["score"] == 2.0 and body["score_is_partial"] and body["hidden_points"] == 3.0
    instructor_view = json.dumps(get(client, world.tokens["instructor"], pk).json())
    assert "secret_probe" in instructor_view and "tiny sigmas" in instructor_view
