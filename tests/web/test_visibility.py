from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from submissions.selectors import result_for_viewer

NOW = timezone.now()


def result():
    def test(name, visibility, score, max_score, status="passed"):
        return {"name": name, "title": f"Title of {name}", "score": score, "max_score": max_score, "status": status,
                "output": f"details of {name}", "visibility": visibility}

    return {"status": "graded", "score": 6.0, "max_score": 10.0, "execution_time": 1.5, "output": "summary",
            "leaderboard": [], "provenance": {"seed": 7}, "timings": {},
            "tests": [test("seen", "visible", 2.0, 4.0, "failed"), test("later", "after_due_date", 3.0, 3.0),
                      test("secret", "hidden", 1.0, 3.0, "failed")]}


def ce(deadline):
    return SimpleNamespace(deadline=deadline)


def test_before_the_due_date_only_visible_content_and_score():
    shown = result_for_viewer(result=result(), course_exercise=ce(NOW + timedelta(days=1)), full=False, now=NOW)
    text = repr(shown)
    assert "details of seen" in text
    for leaked in ("later", "secret", "details of later", "details of secret", "provenance"):
        assert leaked not in text
    assert [t["status"] for t in shown["tests"]] == ["failed", "hidden", "hidden"]
    assert [t["max_score"] for t in shown["tests"]] == [4.0, 3.0, 3.0]  # they exist, and their points
    assert shown["score"] == 2.0 and shown["score_is_partial"] and shown["hidden_points"] == 6.0


def test_after_the_due_date():
    shown = result_for_viewer(result=result(), course_exercise=ce(NOW - timedelta(days=1)), full=False, now=NOW)
    later, secret = shown["tests"][1], shown["tests"][2]
    assert later["output"] == "details of later" and later["score"] == 3.0
    assert secret["score"] == 1.0 and secret["status"] == "failed"
    assert "details of secret" not in repr(shown) and "Title of secret" not in repr(shown)
    assert shown["score"] == 6.0 and not shown["score_is_partial"]


def test_without_a_deadline_hidden_stays_hidden_and_instructors_see_all():
    shown = result_for_viewer(result=result(), course_exercise=ce(None), full=False, now=NOW)
    assert "details of later" not in repr(shown)
    assert result_for_viewer(result=result(), course_exercise=ce(None), full=True) == result()
    assert result_for_viewer(result=None, course_exercise=ce(None), full=False) is None
