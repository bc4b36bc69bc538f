"""Writes for courses and enrolments."""
from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .models import Course, Enrollment, new_invite_code


def course_create(*, slug: str, title: str, description: str = "", instructor=None) -> Course:
    with transaction.atomic():
        course = Course(slug=slug, title=title, description=description)
        course.full_clean()
        course.save()
        if instructor is not None:
            enrollment_create(user=instructor, course=course, role=Enrollment.Role.INSTRUCTOR)
    return course


def enrollment_create(*, user, course: Course, role: str = Enrollment.Role.STUDENT) -> Enrollment:
    if role not in Enrollment.Role.values:
        raise ValidationError(f"unknown role {role!r}")
    enrollment, created = Enrollment.objects.get_or_create(user=user, course=course, defaults={"role": role})
    if not created and enrollment.role != role:
        enrollment.role = role
        enrollment.save(update_fields=["role"])
    return enrollment


def _instructor_count(course: Course) -> int:
    return Enrollment.objects.filter(course=course, role=Enrollment.Role.INSTRUCTOR).count()


def enrollment_set_role(*, course: Course, enrollment: Enrollment, role: str) -> Enrollment:
    """Changes a member's role (student, TA, instructor). A course always keeps an instructor."""
    if role not in Enrollment.Role.values:
        raise ValidationError(f"unknown role {role!r}")
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk, course=course)
        if (locked.role == Enrollment.Role.INSTRUCTOR and role != Enrollment.Role.INSTRUCTOR
                and _instructor_count(course) <= 1):
            raise ValidationError("A course needs at least one instructor: add another before changing this one.")
        locked.role = role
        locked.save(update_fields=["role"])
    return locked


def enrollment_remove(*, course: Course, enrollment: Enrollment) -> None:
    """Takes a member out of the course (their submissions stay, for the record). Never the last instructor."""
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk, course=course)
        if locked.role == Enrollment.Role.INSTRUCTOR and _instructor_count(course) <= 1:
            raise ValidationError("A course needs at least one instructor: add another before removing this one.")
        locked.delete()


NO_MATCH = "No account has this username and e-mail address (ask them to join with the invite code instead)."


def course_add_staff(*, course: Course, username: str, email: str, role: str) -> Enrollment:
    """Adds a co-instructor or a TA by username *and* e-mail address: both must match one account, so
    the page cannot be used to find out which usernames exist (one message for every miss)."""
    if role not in (Enrollment.Role.INSTRUCTOR, Enrollment.Role.TA):
        raise ValidationError("Choose instructor or teaching assistant.")
    username, email = username.strip(), email.strip()
    user = (get_user_model().objects.filter(username__iexact=username, email__iexact=email).first()
            if username and email else None)
    if user is None:
        raise ValidationError(NO_MATCH)
    existing = Enrollment.objects.filter(user=user, course=course).first()
    if existing is not None:
        return enrollment_set_role(course=course, enrollment=existing, role=role)
    return Enrollment.objects.create(user=user, course=course, role=role)


def course_add_exercise(*, course: Course, exercise_slug: str, points: float = 10.0, deadline=None,
                        published: bool = False):
    """Sets a synced exercise in the course. Unpublished unless asked: the instructor sets the deadline
    and limits first, then publishes it to the students."""
    from catalog.models import CourseExercise, Exercise
    from catalog.services import course_exercise_create

    exercise = Exercise.objects.filter(slug=exercise_slug, current_version__isnull=False).first()
    if exercise is None:
        raise ValidationError("No synced exercise by that name.")
    if CourseExercise.objects.filter(course=course, exercise=exercise).exists():
        raise ValidationError("This exercise is already in the course.")
    if points is None or points <= 0:
        raise ValidationError("Points must be positive.")
    with transaction.atomic():
        ce = course_exercise_create(course=course, exercise=exercise, points=points, deadline=deadline)
        CourseExercise.objects.filter(pk=ce.pk).update(published=published)
        ce.published = published
    return ce


def course_join_by_invite(*, user, invite_code: str) -> Enrollment:
    course = Course.objects.filter(invite_code=invite_code.strip()).first()
    if course is None:
        raise ValidationError("No course has this invite code.")
    existing = Enrollment.objects.filter(user=user, course=course).first()
    return existing or enrollment_create(user=user, course=course, role=Enrollment.Role.STUDENT)


def course_rotate_invite_code(*, course: Course) -> str:
    """A new invite code; the old one stops working at once (enrolments made with it stay)."""
    course.invite_code = new_invite_code()
    course.save(update_fields=["invite_code"])
    return course.invite_code


def course_set_leaderboard_pseudonyms(*, course: Course, enabled: bool) -> None:
    """Whether the course's leaderboards show students to each other under pseudonyms (instructors see names)."""
    Course.objects.filter(pk=course.pk).update(leaderboard_pseudonyms=enabled)


CSV_MAX_BYTES = 1_000_000
CSV_MAX_ROWS = 5000


@dataclass
class EnrolledRow:
    username: str
    email: str
    name: str
    created: bool  # a new account: `password` is its one-time password, shown once and never stored
    password: str | None
    already_enrolled: bool


def _parse_enrolment_csv(data: bytes) -> list[tuple[int, str, str, str]]:
    """(line, username, email, name) per row, or a ValidationError listing every bad line."""
    if len(data) > CSV_MAX_BYTES:
        raise ValidationError(f"The file is {len(data):,} bytes; the limit is {CSV_MAX_BYTES:,}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text.") from None
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValidationError(f"Not a CSV file: {exc}") from None
    errors, parsed, seen_users, seen_emails = [], [], {}, {}
    check_username = UnicodeUsernameValidator()
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and [c.lower() for c in cells[:2]] == ["username", "email"]:
            continue  # a header
        if len(cells) not in (2, 3):
            errors.append(f"line {line}: expected username,email[,name], got {len(cells)} fields")
            continue
        username, email, name = cells[0], cells[1], cells[2] if len(cells) == 3 else ""
        try:
            check_username(username)
            if not username or len(username) > 150:
                raise ValidationError("bad length")
        except ValidationError:
            errors.append(f"line {line}: {username!r} is not a valid username (letters, digits and @.+-_ only)")
            continue
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"line {line}: {email!r} is not a valid email address")
            continue
        if len(name) > 300:
            errors.append(f"line {line}: the name is longer than 300 characters")
            continue
        if username.lower() in seen_users:
            errors.append(f"line {line}: username {username!r} repeats line {seen_users[username.lower()]}")
            continue
        if email.lower() in seen_emails:
            errors.append(f"line {line}: email {email!r} repeats line {seen_emails[email.lower()]}")
            continue
        seen_users[username.lower()], seen_emails[email.lower()] = line, line
        parsed.append((line, username, email, name))
    if len(parsed) > CSV_MAX_ROWS:
        errors.append(f"{len(parsed)} rows; at most {CSV_MAX_ROWS} per file")
    if not errors and not parsed:
        errors.append("The file has no rows (expected username,email[,name] per line).")
    if errors:
        raise ValidationError(errors)
    return parsed


CSV_CONFLICT = ("line {line}: this username and e-mail address cannot be enrolled together; check both, or ask "
                "the student to join with the invite code")


def course_enrol_from_csv(*, course: Course, data: bytes) -> list[EnrolledRow]:
    """Enrols the students of a CSV file (username,email[,name]; a header line is optional).

    A row whose username and e-mail address are both new gets an account with a random one-time
    password (returned here, to be shown once; only its hash is stored) that must be changed at first
    login. A row is linked to an existing account only when the account's username *and* its e-mail
    address match the row (an account without an e-mail address is never linked: a CSV must not take
    over an account by naming it). Nothing is ever written into an existing account. Every other row
    (a username or an e-mail address in use, whichever it is) gets the same message, so the file cannot
    be used to find out which usernames or addresses have accounts. Every row is checked before anything
    is written, and the writes are one transaction: a bad file stores nothing."""
    from accounts.services import user_require_password_change

    rows = _parse_enrolment_csv(data)
    User = get_user_model()
    errors, plan = [], []
    for line, username, email, name in rows:
        user = User.objects.filter(username__iexact=username).first()
        if user is not None:
            if not user.email or user.email.lower() != email.lower():
                errors.append(CSV_CONFLICT.format(line=line))
                continue
        elif User.objects.filter(email__iexact=email).exists():
            errors.append(CSV_CONFLICT.format(line=line))
            continue
        plan.append((username, email, name, user))
    if errors:
        raise ValidationError(errors)
    done = []
    with transaction.atomic():
        for username, email, name, user in plan:
            password = None
            if user is None:
                password = secrets.token_urlsafe(12)
                first, _, last = name.rpartition(" ") if " " in name else (name, "", "")
                user = User(username=username, email=email, first_name=first[:150], last_name=last[:150])
                user.set_password(password)
                user.full_clean()
                user.save()
                user_require_password_change(user)
            existing = Enrollment.objects.filter(user=user, course=course).first()
            if existing is None:
                Enrollment.objects.create(user=user, course=course, role=Enrollment.Role.STUDENT)
            # an instructor or TA listed in the file keeps their role
            done.append(EnrolledRow(username=user.username, email=email, name=name, created=password is not None,
                                    password=password, already_enrolled=existing is not None))
    return done


def extension_grant(*, course_exercise, user, reason: str, deadline=None, extra_attempts: int = 0,
                    granted_by=None):
    """Gives one student of the course their own deadline and/or extra attempts, with a reason they will
    read; granting again replaces the earlier extension. How it applies: courses/deadlines.py."""
    from .models import Extension

    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors.setdefault("reason", []).append("Give a reason (the student reads it).")
    elif len(reason) > 2000:
        errors.setdefault("reason", []).append("At most 2000 characters.")
    if not Enrollment.objects.filter(user=user, course_id=course_exercise.course_id,
                                     role=Enrollment.Role.STUDENT).exists():
        errors.setdefault("user", []).append("Extensions are for the course's students.")
    if deadline is not None:
        if course_exercise.deadline is None:
            errors.setdefault("deadline", []).append("This exercise has no deadline to extend.")
        elif deadline <= course_exercise.deadline:
            errors.setdefault("deadline", []).append("The new deadline must be after the exercise's deadline.")
    if extra_attempts < 0:
        errors.setdefault("extra_attempts", []).append("Extra attempts cannot be negative.")
    elif extra_attempts and course_exercise.max_submissions is None:
        errors.setdefault("extra_attempts", []).append("This exercise has no submission limit.")
    if deadline is None and not extra_attempts and not errors:
        errors.setdefault("deadline", []).append("Give a new deadline, extra attempts, or both.")
    if errors:
        raise ValidationError(errors)
    extension, _ = Extension.objects.update_or_create(
        course_exercise=course_exercise, user=user,
        defaults={"deadline": deadline, "extra_attempts": extra_attempts, "reason": reason,
                  "granted_by": granted_by})
    return extension


def extension_revoke(*, course_exercise, extension_id: int) -> bool:
    from .models import Extension

    return Extension.objects.filter(course_exercise=course_exercise, pk=extension_id).delete()[0] > 0
