"""The leaderboard's pages and API, each with the student, a peer, an outsider and the instructor:
the board, hidden until the deadline, pseudonyms, the CSV export, choosing an entry, moderation,
the training panel of the submission page, the sample grid, the API."""
import csv
import io
from datetime import timedelta

from django.urls import reverse

from accounts.models import User
from leaderboard.models import LeaderboardEntry
from leaderboard.pseudonyms import pseudonym_for
from leaderboard.services import baseline_store, leaderboard_entry_disqualify
from submissions.models import Submission

from .leaderboard_world import FID_LABEL, graded, tiny_png, training_result


def board_url(name="leaderboard:board", exercise="toy-train"):
    return reverse(name, args=["dgm", exercise])


def api_url(exercise="toy-train"):
    return reverse("api-leaderboard", args=["dgm", exercise])


def api_get(client, token, url):
    return client.get(url, headers={"Authorization": f"Token {token}"} if token else {})


def pseudonyms_on(w):
    w.course.leaderboard_pseudonyms = True
    w.course.save()


def test_the_board_page_for_members_only(client, board_world):
    w = board_world
    graded(w, w.owner, 31.25)
    assert client.get(board_url())["Location"].startswith("/login/")
    client.force_login(w.outsider)
    assert client.get(board_url()).status_code == 404
    for user in (w.owner, w.peer, w.instructor):
        client.force_login(user)
        page = client.get(board_url())
        assert page.status_code == 200 and b"31.25" in page.content and FID_LABEL.encode() in page.content
    assert client.get(board_url(exercise="vae-reparam")).status_code == 404  # no leaderboard: not a training exercise
    w.train_ce.published = False
    w.train_ce.save()
    assert client.get(board_url()).status_code == 200  # the instructor still sees it
    client.force_login(w.owner)
    assert client.get(board_url()).status_code == 404


def test_a_peer_never_sees_a_real_name_when_the_course_uses_pseudonyms(client, board_world):
    w = board_world
    User.objects.filter(pk=w.owner.pk).update(first_name="Ada", last_name="Lovelace")
    own = graded(w, w.owner, 20.0)
    graded(w, w.peer, 30.0)
    pseudonyms_on(w)
    alias = pseudonym_for(course_id=w.course.pk, user_id=w.owner.pk)
    client.force_login(w.peer)
    for response in (client.get(board_url()), api_get(client, w.tokens["peer"], api_url())):
        body = response.content.decode()
        assert response.status_code == 200 and alias in body
        assert "owner" not in body and "Lovelace" not in body and f"/submissions/{own.pk}/" not in body
    client.force_login(w.owner)
    page = client.get(board_url()).content.decode()
    assert alias in page and 'class="tag you"' in page and f"/submissions/{own.pk}/" in page
    client.force_login(w.instructor)
    page = client.get(board_url()).content.decode()
    assert f'owner <span class="muted">({alias})</span>' in page


def test_hidden_until_the_deadline_for_students_page_and_api(client, board_world):
    w = board_world
    graded(w, w.owner, 20.0)
    Submission.objects.update(created_at=w.now - timedelta(days=3))
    w.train_ce.leaderboard_hidden_until_deadline = True
    w.train_ce.deadline = w.now + timedelta(days=1)
    w.train_ce.save()
    client.force_login(w.owner)
    page = client.get(board_url())
    assert page.status_code == 200 and b"shown after the deadline" in page.content and b"20.00" not in page.content
    response = api_get(client, w.tokens["owner"], api_url())
    assert response.status_code == 403 and "after the deadline" in response.json()["error"]
    assert api_get(client, w.tokens["instructor"], api_url()).json()["rows"][0]["fid"] == 20.0
    client.force_login(w.instructor)
    assert b"20.00" in client.get(board_url()).content
    w.train_ce.deadline = w.now - timedelta(hours=1)
    w.train_ce.save()
    client.force_login(w.owner)
    assert b"20.00" in client.get(board_url()).content
    assert api_get(client, w.tokens["owner"], api_url()).status_code == 200


def test_the_api_honours_the_same_rules(client, board_world):
    w = board_world
    graded(w, w.owner, 20.0)
    flagged = graded(w, w.peer, 10.0, flagged=True, share=0.5)
    assert api_get(client, None, api_url()).status_code == 401
    assert api_get(client, "dgm_not-a-token", api_url()).status_code == 401
    assert api_get(client, w.tokens["outsider"], api_url()).status_code == 404
    assert api_get(client, w.tokens["owner"], api_url("vae-reparam")).status_code == 404
    body = api_get(client, w.tokens["peer"], api_url()).json()
    assert (body["profile"], body["fid_label"], body["n_samples"]) == ("cpu", FID_LABEL, 1000)
    assert [(r["rank"], r["name"], r["is_you"]) for r in body["rows"]] == [(1, "owner", False)]
    assert "flagged" not in body and "username" not in body["rows"][0]
    assert body["rows"][0]["submitted_at"].startswith(str(w.now.year))
    body = api_get(client, w.tokens["instructor"], api_url()).json()
    assert [(r["username"], r["submission_id"]) for r in body["flagged"]] == [("peer", flagged.pk)]
    assert body["disqualified"] == []
    client.force_login(w.owner)  # the browser's session works too
    assert client.get(api_url()).status_code == 200


def test_csv_export_for_the_instructor_with_names_pseudonyms_and_moderation(client, board_world):
    w = board_world
    User.objects.filter(pk=w.owner.pk).update(first_name="=HYPERLINK(\"http://x\")", last_name="")
    best = graded(w, w.owner, 20.0)
    out = graded(w, w.peer, 15.0)
    graded(w, w.third, 12.0, flagged=True, share=0.25)
    leaderboard_entry_disqualify(entry=out.leaderboard_entry, by=w.instructor, reason="=1+1 trained on test")
    baseline_store(exercise_version=w.train_version, profile="cpu",
                   computed={**training_result(30.0)["training"], "label": "Reference solution"})
    pseudonyms_on(w)
    for user in (w.owner, w.peer, w.outsider):
        client.force_login(user)
        assert client.get(board_url("leaderboard:csv")).status_code == 404
    client.force_login(w.instructor)
    response = client.get(board_url("leaderboard:csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_status = {r["status"]: r for r in rows}
    assert [r["status"] for r in rows] == ["ranked", "baseline", "flagged: memorises training images",
                                           "disqualified"]
    ranked = by_status["ranked"]
    assert (ranked["rank"], ranked["username"], ranked["submission"], ranked["fid"]) == ("1", "owner", str(best.pk),
                                                                                        "20.0")
    assert ranked["name"] == "'=HYPERLINK(\"http://x\")"  # formula injection neutralised
    assert ranked["pseudonym"] == pseudonym_for(course_id=w.course.pk, user_id=w.owner.pk)
    assert (ranked["fid_label"], ranked["kid"], ranked["n_samples"], ranked["profile"]) == (FID_LABEL, "0.05", "1000",
                                                                                            "cpu")
    assert (by_status["baseline"]["kind"], by_status["baseline"]["rank"]) == ("baseline", "")
    assert by_status["flagged: memorises training images"]["memorisation_share"] == "0.25"
    disqualified = by_status["disqualified"]
    assert (disqualified["username"], disqualified["reason"]) == ("peer", "'=1+1 trained on test")


def test_choosing_an_entry_is_for_its_owner_only(client, board_world):
    w = board_world
    worse = graded(w, w.owner, 50.0)
    graded(w, w.owner, 20.0)
    choose = reverse("leaderboard:choose", args=[worse.pk])
    for user in (w.peer, w.outsider, w.instructor):
        client.force_login(user)
        assert client.post(choose).status_code == 404
    assert not LeaderboardEntry.objects.filter(chosen=True).exists()
    client.force_login(w.owner)
    assert client.get(choose).status_code == 405
    response = client.post(choose)
    assert response.status_code == 302 and response["Location"] == reverse("submission-detail", args=[worse.pk])
    assert LeaderboardEntry.objects.get(chosen=True).submission_id == worse.pk
    page = client.get(response["Location"]).content.decode()
    assert "Use my best submission instead" in page and "Rank 1" in page
    client.force_login(w.peer)
    assert client.post(reverse("leaderboard:clear_choice", args=[worse.pk])).status_code == 404
    client.force_login(w.owner)
    client.post(reverse("leaderboard:clear_choice", args=[worse.pk]))
    assert not LeaderboardEntry.objects.filter(chosen=True).exists()


def test_disqualify_and_reinstate_for_the_instructor_only(client, board_world):
    w = board_world
    sub = graded(w, w.owner, 20.0)
    disqualify = reverse("leaderboard:disqualify", args=[sub.pk])
    reinstate = reverse("leaderboard:reinstate", args=[sub.pk])
    for user in (w.owner, w.peer, w.outsider):
        client.force_login(user)
        assert client.post(disqualify, {"reason": "x"}).status_code == 404
        assert client.post(reinstate).status_code == 404
    client.force_login(w.instructor)
    client.post(disqualify, {"reason": "", "confirm": "1"})
    assert LeaderboardEntry.objects.get(submission=sub).disqualified_at is None  # a reason is required
    client.post(disqualify, {"reason": "A reason"})
    assert LeaderboardEntry.objects.get(submission=sub).disqualified_at is None  # and the confirmation
    response = client.post(disqualify, {"reason": "Samples are training images <b>shifted</b>.", "next": "board",
                                        "confirm": "1"})
    assert response["Location"] == board_url()
    assert LeaderboardEntry.objects.get(submission=sub).disqualified_by == w.instructor
    board = client.get(board_url()).content.decode()
    assert 'id="disqualified"' in board and "Samples are training images &lt;b&gt;shifted&lt;/b&gt;." in board

    client.force_login(w.owner)
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert "Disqualified from the leaderboard by your instructor" in page and "&lt;b&gt;shifted" in page
    assert "Use this submission for the leaderboard" not in page
    assert b"20.00" not in client.get(board_url()).content

    client.force_login(w.instructor)
    client.post(reinstate)
    assert LeaderboardEntry.objects.get(submission=sub).disqualified_reason == ""
    client.force_login(w.owner)
    assert b"20.00" in client.get(board_url()).content


def test_the_submission_page_shows_the_training_results(client, board_world):
    w = board_world
    sub = graded(w, w.owner, 20.0, kid=0.0123, kid_std=0.0021, share=0.01)
    graded(w, w.peer, 30.0)
    client.force_login(w.owner)
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert '<svg class="loss-curve"' in page and "<polyline" in page and "http" not in page.split("<svg")[1][:200]
    assert f'src="{reverse("submission-sample-grid", args=[sub.pk])}"' in page
    assert FID_LABEL in page and "20.00" in page and "0.0123 ± 0.0021" in page
    assert "1800 of 2000 steps (batch 64)" in page
    assert "Memorisation check passed: 1.0%" in page
    assert "Rank 1</strong> of 2" in page and board_url() in page
    assert "Use this submission for the leaderboard" in page
    assert "sample_grid_png" not in page and "iVBOR" not in page  # the PNG is served by its own view

    flagged = graded(w, w.owner, 5.0, flagged=True, share=0.4)
    page = client.get(reverse("submission-detail", args=[flagged.pk])).content.decode()
    assert "Flagged as memorising dataset images: 40.0%" in page
    assert "Use this submission for the leaderboard" not in page


def test_a_running_training_grading_says_how_long_it_may_take(client, board_world):
    from submissions.services import submission_claim, submission_create

    from .conftest import SOLUTION

    w = board_world
    sub = submission_create(user=w.owner, course_exercise=w.train_ce, filename="solution.py", data=SOLUTION)
    submission_claim(submission_id=sub.pk, worker="test:1")
    client.force_login(w.owner)
    page = client.get(reverse("submission-detail", args=[sub.pk])).content.decode()
    assert 'data-status="running"' in page and "up to about 12 minutes, profile <code>cpu</code>" in page  # 600 + 120 s
    assert client.get(f"/api/submissions/{sub.pk}/").json()["leaderboard_entry"] is None


def test_the_sample_grid_for_the_owner_and_instructors(client, board_world):
    w = board_world
    sub = graded(w, w.owner, 20.0)
    url = reverse("submission-sample-grid", args=[sub.pk])
    for user in (w.peer, w.outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404
    for user in (w.owner, w.instructor):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"
        assert response.content == tiny_png()
    broken = training_result(20.0)
    broken["training"]["sample_grid_png"] = "PHN2Zz48L3N2Zz4="  # base64 of an SVG: not served
    Submission.objects.filter(pk=sub.pk).update(result=broken)
    assert client.get(url).status_code == 404


def test_the_submission_api_has_the_training_block_without_the_png(client, board_world):
    w = board_world
    sub = graded(w, w.owner, 20.0)
    for name in ("owner", "instructor"):
        response = api_get(client, w.tokens[name], f"/api/submissions/{sub.pk}/")
        body = response.json()
        training = body["result"]["training"]
        assert "sample_grid_png" not in training and "iVBOR" not in response.content.decode()
        assert training["sample_grid_url"] == reverse("submission-sample-grid", args=[sub.pk])
        assert training["fid"] == 20.0 and training["loss"]["loss"][0] == 1.2
        assert body["result"]["leaderboard"][0] == {"name": FID_LABEL, "value": 20.0, "order": "asc"}
        entry = body["leaderboard_entry"]
        assert (entry["rank"], entry["on_board"], entry["fid_label"], entry["profile"]) == (1, True, FID_LABEL, "cpu")
    assert api_get(client, w.tokens["peer"], f"/api/submissions/{sub.pk}/").status_code == 404


def test_leaderboard_settings_pseudonyms_and_hidden_until_deadline(client, board_world):
    w = board_world
    toggle = reverse("courses:leaderboard_pseudonyms", args=["dgm"])
    for user in (w.owner, w.peer, w.outsider):
        client.force_login(user)
        assert client.post(toggle, {"enabled": "1"}).status_code == 404
    client.force_login(w.instructor)
    assert client.post(toggle, {"enabled": "1"}).status_code == 302
    w.course.refresh_from_db()
    assert w.course.leaderboard_pseudonyms
    assert "Show usernames" in client.get(reverse("course-dashboard", args=["dgm"])).content.decode()

    settings_url = reverse("courses:exercise_settings", args=["dgm", "toy-train"])
    page = client.get(settings_url).content.decode()
    assert "Hide the leaderboard from students until the deadline" in page
    assert "leaderboard_hidden_until_deadline" not in client.get(
        reverse("courses:exercise_settings", args=["dgm", "vae-reparam"])).content.decode()
    form = {"late_penalty_percent": "0", "late_penalty_per_day_percent": "0", "points": "10", "published": "on",
            "leaderboard_hidden_until_deadline": "on"}
    assert client.post(settings_url, form).status_code == 302
    w.train_ce.refresh_from_db()
    assert w.train_ce.leaderboard_hidden_until_deadline
    form.pop("leaderboard_hidden_until_deadline")
    client.post(settings_url, form)
    w.train_ce.refresh_from_db()
    assert not w.train_ce.leaderboard_hidden_until_deadline


def test_links_to_the_board(client, board_world):
    w = board_world
    client.force_login(w.owner)
    assert board_url() in client.get(reverse("course-detail", args=["dgm"])).content.decode()
    assert board_url() in client.get(reverse("exercise-detail", args=["dgm", "toy-train"])).content.decode()
    assert board_url() not in client.get(reverse("exercise-detail", args=["dgm", "vae-reparam"])).content.decode()
    client.force_login(w.instructor)
    page = client.get(reverse("courses:exercise_dashboard", args=["dgm", "toy-train"])).content.decode()
    assert board_url() in page and board_url("leaderboard:csv") in page
    assert "No reference baseline" in client.get(board_url()).content.decode()
