from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.selectors import course_exercise_list
from submissions.selectors import course_submission_counts

from .forms import AddExerciseForm
from .permissions import GRADE, MANAGE, can_create_course, course_get_for_staff
from .selectors import catalogue_choices, course_get_for_member, course_list_for_user
from .services import course_join_by_invite
from .student import course_page_for_member


@login_required
def course_list(request):
    return render(request, "courses/list.html", {"courses": course_list_for_user(user=request.user),
                                                 "can_create": can_create_course(user=request.user)})


@login_required
@require_POST
def course_join(request):
    try:
        enrollment = course_join_by_invite(user=request.user, invite_code=request.POST.get("invite_code", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("course-list")
    return redirect("course-detail", slug=enrollment.course.slug)


@login_required
def course_detail(request, slug):
    course, role = course_get_for_member(user=request.user, slug=slug)
    page = course_page_for_member(course=course, user=request.user, role=role)
    return render(request, "courses/detail.html", {"course": course, "role": role, **page})


@login_required
def course_dashboard(request, slug):
    """The course staff's dashboard (TAs see it without the controls that change the course)."""
    course, access = course_get_for_staff(user=request.user, slug=slug, level=GRADE)
    counts_list = course_submission_counts(course=course)
    counts = {row["id"]: row for row in counts_list}
    rows = [{"ce": ce, "title": ce.exercise.current_version.title if ce.exercise.current_version
             else ce.exercise.slug, "counts": counts.get(ce.id, {})}
            for ce in course_exercise_list(course=course, include_unpublished=True)]
    can_manage = access == MANAGE
    return render(request, "courses/dashboard.html", {
        "course": course, "rows": rows, "counts": counts_list, "can_manage": can_manage,
        "add_form": AddExerciseForm(choices=catalogue_choices(course=course)) if can_manage else None,
        "students": course.enrollments.filter(role="student").count()})
