"""In a real browser: an instructor creates a course, adds an exercise from the catalogue, grants a
student an extension that the student then reads on the course page, and opens the gradebook and the
similarity report (gradings are stored directly: this journey is about the instructor's pages)."""
from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.models import CourseExercise
from courses.models import Course, Enrollment, Extension
from submissions.models import Submission
from submissions.services import submission_create

from .conftest import SOLUTION, log_in


@pytest.mark.django_db(transaction=True)
def test_instructor_creates_a_course_grants_an_extension_and_reads_the_reports(world, enqueued, new_page):
    teacher = new_page(viewport={"width": 1280, "height": 900})
    log_in(teacher, "teacher")
    teacher.locator("main").get_by_role("link", name="Create a course").click()  # the course list's (also in the menu)
    teacher.get_by_label("Title").fill("Generative models 2027")
    teacher.get_by_label("Short name (in addresses)").fill("gm-2027")
    teacher.get_by_role("button", name="Create course").click()
    teacher.wait_for_url("**/courses/gm-2027/dashboard/")
    course = Course.objects.get(slug="gm-2027")
    title = world.exercise.current_version.title
    # the exercise is chosen by its title, with a deadline, and published at once
    teacher.get_by_label("Exercise").select_option(label=title)
    teacher.get_by_label("Points").fill("10")
    teacher.locator("#add-exercise input[name=deadline]").fill("2030-01-15T17:00")
    teacher.get_by_label("Publish to students now").check()
    teacher.get_by_role("button", name="Add exercise").click()
    teacher.wait_for_url("**/courses/gm-2027/dashboard/")
    assert teacher.locator("#course-exercises").get_by_role("link", name=title, exact=True).is_visible()
    ce = CourseExercise.objects.get(course=course)
    assert ce.published and ce.points == 10
    invite = teacher.locator("#invite-code").inner_text()

    student = new_page(viewport={"width": 1280, "height": 900})
    log_in(student, "owner")
    student.get_by_label("Invite code").fill(invite)
    student.get_by_role("button", name="Join").click()
    student.wait_for_url("**/courses/gm-2027/")
    assert Enrollment.objects.get(course=course, user=world.owner).role == "student"
    peer = Enrollment.objects.create(course=course, user=world.peer, role="student")
    assert peer.pk

    # the instructor grants the extension from the exercise's dashboard
    teacher.get_by_role("link", name=title, exact=True).click()
    teacher.get_by_role("link", name="Extensions").click()
    teacher.locator("#grant-extension select[name=student]").select_option(label="owner")
    teacher.locator("#grant-extension input[name=deadline]").fill("2030-01-20T17:00")
    teacher.locator("#grant-extension textarea[name=reason]").fill("Hospital stay, documented")
    teacher.get_by_role("button", name="Grant extension").click()
    assert teacher.locator("#extensions tr[data-username=owner]").is_visible()
    assert Extension.objects.get(user=world.owner).reason == "Hospital stay, documented"

    student.reload()
    extension = student.locator("#extension-vae-reparam")
    assert "Hospital stay, documented" in extension.inner_text()
    assert "20 Jan 2030" in extension.inner_text()
    assert "20 Jan 2030" in student.locator("#due-next").inner_text()

    # two gradings, the same code: the gradebook links them, the similarity report pairs them
    subs = []
    for user in (world.owner, world.peer):
        sub = submission_create(user=user, course_exercise=ce, filename="a.py", data=SOLUTION)
        Submission.objects.filter(pk=sub.pk).update(status="graded", score=13.0, visible_score=13.0,
                                                    max_score=13.0, finished_at=timezone.now())
        subs.append(sub)
    teacher.goto("/courses/gm-2027/dashboard/")
    teacher.get_by_role("link", name="Gradebook").click()
    owner_row = teacher.locator("#gradebook tr[data-username=owner]")
    assert "10.00" in owner_row.inner_text() and "ext" in owner_row.inner_text()
    assert owner_row.locator(f'a[href="/submissions/{subs[0].pk}/"]').is_visible()
    teacher.get_by_role("link", name="Total").click()  # sorts by total
    assert "sort=total" in teacher.url
    teacher.goto(f"/instructor/gm-2027/exercises/{ce.exercise.slug}/")
    teacher.get_by_role("link", name="Similarity report").click()
    first = teacher.locator("#similarity tbody tr").first
    assert "owner" in first.inner_text() and "peer" in first.inner_text()
    first.get_by_role("link", name="side by side").click()
    teacher.wait_for_url("**/similarity/*-*/")
    teacher.locator("#code-a mark.copied").first.wait_for()
    assert teacher.locator("#code-a mark.copied").count() > 0 and teacher.locator("#code-b").is_visible()
