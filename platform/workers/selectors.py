"""Reads about workers and their jobs."""
from __future__ import annotations

import socket
import statistics
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from catalog.selectors import version_budget_s
from grader.sandbox.docker_sandbox import worker_is_gone

from .models import WorkerHeartbeat


def claimed_by_dead_workers(running, host: str | None = None) -> list:
    """The rows of `running` (a queryset of a job model with a `worker` field, "host:pid") claimed by
    worker processes of this host that no longer exist (SIGKILL, OOM kill)."""
    host = host or socket.gethostname()
    return [row for row in running.filter(worker__startswith=f"{host}:") if worker_is_gone(row.worker)]


def workers_alive(*, now=None) -> list:
    """Worker nodes heard from within three heartbeat intervals."""
    since = (now or timezone.now()) - timedelta(seconds=3 * settings.NODE_HEARTBEAT_S)
    return list(WorkerHeartbeat.objects.filter(last_seen_at__gte=since))


def queue_capacity(*, queue: str, now=None) -> int:
    """Job slots (worker processes) of the live workers that consume `queue`."""
    return sum(w.concurrency for w in workers_alive(now=now) if queue in (w.queues or []))


def _queued_baselines(queue: str) -> list:
    from leaderboard.models import Baseline
    from leaderboard.services import baseline_queue

    return [b for b in Baseline.objects.filter(status=Baseline.Status.QUEUED).select_related("exercise_version")
            if baseline_queue(baseline=b) == queue]


def _running_baselines(queue: str) -> list:
    from leaderboard.models import Baseline
    from leaderboard.services import baseline_queue

    return [b for b in Baseline.objects.filter(status=Baseline.Status.RUNNING).select_related("exercise_version")
            if baseline_queue(baseline=b) == queue]


def typical_duration_s(*, course_exercise_id: int, queue: str) -> float | None:
    """The median time from claim to result of the last gradings of this exercise (else of its queue)."""
    from submissions.models import Submission

    finished = Submission.objects.filter(status__in=Submission.FINISHED, claimed_at__isnull=False,
                                         finished_at__isnull=False).only("claimed_at", "finished_at")
    for rows in (finished.filter(course_exercise_id=course_exercise_id), finished.filter(queue=queue)):
        durations = sorted((s.finished_at - s.claimed_at).total_seconds() for s in rows.order_by("-finished_at")[:25])
        if durations:
            return max(0.0, statistics.median(durations))
    return None


def submission_wait(*, submission, now=None) -> dict | None:
    """A queued submission's place in its queue and when its grading should start: the jobs ahead of it
    (submissions and baselines queued earlier on the same queue), the live worker slots for that queue,
    and an estimate from the recent gradings of the exercise. None unless it is queued."""
    from submissions.models import Submission

    if submission.status != Submission.Status.QUEUED:
        return None
    queue, mine = submission.queue, submission.queued_at or submission.created_at
    earlier = Q(queued_at__lt=mine) | Q(queued_at=mine, pk__lt=submission.pk)
    ahead = Submission.objects.filter(earlier, queue=queue, status=Submission.Status.QUEUED).count()
    ahead += sum(1 for b in _queued_baselines(queue) if b.queued_at and b.queued_at < mine)
    busy = Submission.objects.filter(queue=queue, status=Submission.Status.RUNNING).count() + len(
        _running_baselines(queue))
    slots = queue_capacity(queue=queue, now=now)
    typical = typical_duration_s(course_exercise_id=submission.course_exercise_id, queue=queue)
    estimate = None
    if slots and typical is not None:
        rounds = max(0, ahead + busy - slots + 1) / slots  # jobs that must finish before a slot is free
        estimate = round(rounds * typical, 1)
    return {"queue": queue, "position": ahead + 1, "ahead": ahead, "running": busy, "slots": slots,
            "typical_s": round(typical, 1) if typical is not None else None, "estimated_start_s": estimate,
            "waiting_s": round(((now or timezone.now()) - mine).total_seconds(), 1)}


def submission_run_state(*, submission, now=None) -> dict | None:
    """A running submission's elapsed time against its budget, its heartbeat and its progress."""
    from submissions.models import Submission

    if submission.status != Submission.Status.RUNNING or submission.claimed_at is None:
        return None
    now = now or timezone.now()
    budget = version_budget_s(version=submission.exercise_version, profile=submission.training_profile)
    beat = submission.heartbeat_at
    return {"started_at": submission.claimed_at.isoformat(),
            "elapsed_s": round((now - submission.claimed_at).total_seconds(), 1), "budget_s": budget or None,
            "heartbeat_age_s": round((now - beat).total_seconds(), 1) if beat else None,
            "progress": submission.progress if isinstance(submission.progress, dict) else None}


OVER_BUDGET_SLACK_S = 60  # container start, torch import, scoring: a job is late only past budget + this
RECENT_ERRORS_S = 24 * 3600


def _job_row(*, kind: str, pk: int, label: str, queue: str, claimed_at, heartbeat_at, budget_s: float, now,
             course=None, url: str = "") -> dict:
    elapsed = (now - claimed_at).total_seconds() if claimed_at else None
    return {"kind": kind, "id": pk, "label": label, "queue": queue, "course": course, "url": url,
            "elapsed_s": round(elapsed, 1) if elapsed is not None else None, "budget_s": budget_s or None,
            "over_budget": bool(elapsed is not None and budget_s and elapsed > budget_s + OVER_BUDGET_SLACK_S),
            "heartbeat_age_s": round((now - heartbeat_at).total_seconds(), 1) if heartbeat_at else None}


def status_overview(*, course=None, now=None) -> dict:
    """The status page: workers (alive or recently silent) with their queues and current jobs, each
    queue's waiting and running jobs and its oldest waiting one, running jobs past their budget or
    silent, and the recent infrastructure errors. With `course`, jobs of other courses are counted
    but not described (an instructor sees their course's jobs only)."""
    from django.urls import reverse

    from leaderboard.models import Baseline
    from leaderboard.services import baseline_queue
    from submissions.models import Submission

    from .queues import QUEUES

    now = now or timezone.now()
    silent_after = settings.JOB_HEARTBEAT_TIMEOUT_S
    running, visible_ids = [], set()
    subs = Submission.objects.filter(status=Submission.Status.RUNNING).select_related(
        "exercise_version__exercise", "course_exercise__course", "user").defer("data", "result")
    for sub in subs:
        mine = course is None or sub.course_exercise.course_id == course.pk
        row = _job_row(kind="submission", pk=sub.pk, queue=sub.queue, claimed_at=sub.claimed_at,
                       heartbeat_at=sub.heartbeat_at, now=now,
                       budget_s=version_budget_s(version=sub.exercise_version, profile=sub.training_profile),
                       label=f"{sub.exercise_version.exercise.slug} by {sub.user.username}" if mine
                       else "a job of another course",
                       course=sub.course_exercise.course.slug if mine else None,
                       url=reverse("submission-detail", args=[sub.pk]) if mine else "")
        row["node"] = sub.worker_node
        running.append(row)
        if mine:
            visible_ids.add(("submission", sub.pk))
    baselines = Baseline.objects.filter(status=Baseline.Status.RUNNING).select_related("exercise_version__exercise")
    for baseline in baselines:
        version = baseline.exercise_version
        row = _job_row(kind="baseline", pk=baseline.pk, label=f"baseline {version.exercise.slug} ({baseline.profile})",
                       queue=baseline_queue(baseline=baseline), claimed_at=baseline.claimed_at,
                       heartbeat_at=baseline.heartbeat_at, now=now,
                       budget_s=version_budget_s(version=version, profile=baseline.profile))
        row["node"] = baseline.worker_node
        running.append(row)
        visible_ids.add(("baseline", baseline.pk))

    heard_since = now - timedelta(hours=1)
    alive_since = now - timedelta(seconds=3 * settings.NODE_HEARTBEAT_S)
    workers = [{"name": w.name, "hostname": w.hostname, "pid": w.pid, "queues": w.queues,
                "concurrency": w.concurrency, "alive": w.last_seen_at >= alive_since,
                "last_seen_s": round((now - w.last_seen_at).total_seconds(), 1),
                "up_s": round((now - w.started_at).total_seconds()),
                "jobs": [r for r in running if r["node"] == w.name]}
               for w in WorkerHeartbeat.objects.filter(last_seen_at__gte=heard_since)]

    queues = []
    for name in QUEUES:
        waiting = list(Submission.objects.filter(queue=name, status=Submission.Status.QUEUED)
                       .select_related("course_exercise__course", "exercise_version__exercise", "user")
                       .defer("data", "result").order_by("queued_at", "pk"))
        baselines = _queued_baselines(name)
        stamps = [s.queued_at or s.created_at for s in waiting] + [b.queued_at or b.created_at for b in baselines]
        oldest = waiting[0] if waiting else None
        queues.append({
            "name": name, "queued": len(waiting) + len(baselines), "queued_baselines": len(baselines),
            "running": sum(1 for r in running if r["queue"] == name),
            "slots": sum(w["concurrency"] for w in workers if w["alive"] and name in (w["queues"] or [])),
            "oldest_waiting_s": round((now - min(stamps)).total_seconds(), 1) if stamps else None,
            "oldest": ({"id": oldest.pk, "label": f"{oldest.exercise_version.exercise.slug} by {oldest.user.username}",
                        "url": reverse("submission-detail", args=[oldest.pk])}
                       if oldest and (course is None or oldest.course_exercise.course_id == course.pk) else None)})

    errors = Submission.objects.filter(_recent_infra_errors(now)).select_related(
        "exercise_version__exercise", "course_exercise__course", "user").defer("data", "result")
    if course is not None:
        errors = errors.filter(course_exercise__course=course)
    infra = [{"kind": "submission", "id": s.pk, "label": f"{s.exercise_version.exercise.slug} by {s.user.username}",
              "status": s.status, "failures": s.infra_failures, "error": s.last_infra_error[:500],
              "url": reverse("submission-detail", args=[s.pk])} for s in errors.order_by("-created_at")[:50]]
    infra += [{"kind": "baseline", "id": b.pk, "label": f"baseline {b.exercise_version.exercise.slug} ({b.profile})",
               "status": b.status, "failures": 1, "error": b.error[:500], "url": ""}
              for b in Baseline.objects.filter(status=Baseline.Status.FAILED, created_at__gte=now - timedelta(
                  seconds=RECENT_ERRORS_S)).select_related("exercise_version__exercise")[:20]]
    shown = [r for r in running if (r["kind"], r["id"]) in visible_ids]
    return {"workers": workers, "queues": queues, "infra_errors": infra,
            "over_budget": [r for r in shown if r["over_budget"]],
            "silent": [r for r in shown if r["heartbeat_age_s"] is not None and r["heartbeat_age_s"] > silent_after],
            "heartbeat_timeout_s": silent_after, "generated_at": now.isoformat()}


def _recent_infra_errors(now) -> Q:
    """Submissions with an infrastructure error in the last day (retried, given up, or a regrade abandoned)."""
    return ~Q(last_infra_error="") & Q(created_at__gte=now - timedelta(seconds=RECENT_ERRORS_S)) | Q(
        status="infrastructure_error", finished_at__gte=now - timedelta(seconds=RECENT_ERRORS_S))
