"""The course's gradebook: every enrolled student, their best points per exercise with the late policy
applied (from their own deadline, an extension counted: courses/deadlines.py), and their total.

All checks count (this is the staff's view). Lateness is worked out from when each submission was made
against the student's deadline *now*, not from the flag stored at upload, so an extension granted
after a late submission, or a deadline moved later, is reflected at once. Only finished gradings count
(graded, error, timeout, memory limit); infrastructure errors and cancelled jobs never do."""
from __future__ import annotations

from dataclasses import dataclass, field

from catalog.models import CourseExercise
from submissions.models import Submission

from .deadlines import effective_deadline, extensions_for_course, penalty_fraction
from .models import Enrollment


@dataclass
class Cell:
    points: float | None = None
    submission_id: int | None = None
    late: bool = False
    penalty: float = 0.0  # the fraction the late policy took from the best submission
    extension: bool = False
    attempts: int = 0


@dataclass
class Row:
    user: object
    cells: list[Cell] = field(default_factory=list)
    total: float = 0.0
    graded: int = 0  # exercises with a grade


@dataclass
class Column:
    ce: CourseExercise
    title: str
    points: float


@dataclass
class Gradebook:
    columns: list[Column]
    rows: list[Row]

    @property
    def total_points(self) -> float:
        return sum(c.points for c in self.columns)


def gradebook(*, course, published_only: bool = False) -> Gradebook:
    qs = CourseExercise.objects.filter(course=course).select_related("exercise__current_version")
    exercises = list(qs.filter(published=True) if published_only else qs)
    columns = [Column(ce=ce, title=ce.exercise.current_version.title if ce.exercise.current_version
                      else ce.exercise.slug, points=ce.points) for ce in exercises]
    students = list(Enrollment.objects.filter(course=course, role=Enrollment.Role.STUDENT).select_related("user")
                    .order_by("user__username"))
    extensions = extensions_for_course(course=course)
    by_id = {ce.id: ce for ce in exercises}
    index = {ce.id: i for i, ce in enumerate(exercises)}
    rows = {e.user_id: Row(user=e.user, cells=[Cell() for _ in exercises]) for e in students}
    for (ce_id, user_id), _ in extensions.items():
        if user_id in rows and ce_id in index:
            rows[user_id].cells[index[ce_id]].extension = True
    subs = (Submission.objects.filter(course_exercise__in=exercises, user_id__in=rows.keys(),
                                      status__in=Submission.FINISHED)
            .only("pk", "user_id", "course_exercise_id", "score", "max_score", "created_at"))
    for sub in subs:
        ce = by_id[sub.course_exercise_id]
        cell = rows[sub.user_id].cells[index[ce.id]]
        cell.attempts += 1
        if sub.score is None or not sub.max_score:
            continue
        deadline = effective_deadline(course_exercise=ce, extension=extensions.get((ce.id, sub.user_id)))
        fraction = penalty_fraction(course_exercise=ce, deadline=deadline, submitted_at=sub.created_at)
        points = ce.points * sub.score / sub.max_score * (1 - fraction)
        if cell.points is None or points > cell.points:
            cell.points, cell.submission_id = points, sub.pk
            cell.late, cell.penalty = deadline is not None and sub.created_at > deadline, fraction
    for row in rows.values():
        graded = [c.points for c in row.cells if c.points is not None]
        row.total, row.graded = sum(graded), len(graded)
    return Gradebook(columns=columns, rows=list(rows.values()))


SORTS = ("username", "name", "total")


def gradebook_view(book: Gradebook, *, q: str = "", sort: str = "username", descending: bool = False,
                   missing: int | None = None) -> list[Row]:
    """The rows to show: filtered by `q` (username, name or e-mail contains it), by `missing` (the index
    of a column: only students without a grade there), sorted by username, name, total or a column
    (`ex<index>`; no grade sorts before every grade, ascending); ties in username order."""
    q = q.strip().lower()
    rows = book.rows
    if q:
        rows = [r for r in rows if q in r.user.username.lower() or q in r.user.get_full_name().lower()
                or q in (r.user.email or "").lower()]
    if missing is not None and 0 <= missing < len(book.columns):
        rows = [r for r in rows if r.cells[missing].points is None]
    rows = sorted(rows, key=lambda r: r.user.username.lower())  # ties stay in username order either way
    if sort == "name":
        def key(r):
            return (not r.user.last_name, r.user.last_name.lower(), r.user.first_name.lower())  # unnamed last
    elif sort == "total":
        def key(r):
            return r.total
    elif sort.startswith("ex") and sort[2:].isdigit() and int(sort[2:]) < len(book.columns):
        column = int(sort[2:])

        def key(r):
            points = r.cells[column].points
            return (points is not None, points or 0.0)
    else:
        def key(r):
            return r.user.username.lower()
    return sorted(rows, key=key, reverse=descending)
