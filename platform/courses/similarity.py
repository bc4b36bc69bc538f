"""Similarity of the students' best submissions of one exercise, for course staff.

Fingerprints come from copydetect (winnowing over a token stream in which names and strings are
normalised, so renaming variables does not hide a copy: Schleimer, Wilkerson and Aiken, "Winnowing:
local algorithms for document fingerprinting", SIGMOD 2003). The exercise's starter code is its
boilerplate: fingerprints that occur in a starter are dropped, so code every student was given never
counts as copied.

Submitted code is hostile. It is only decoded to text (submissions.code.submission_source) and
tokenised by Pygments inside copydetect; nothing is imported or run. The report is built from
copydetect's numbers and character offsets only: its HTML report is never used, and the code reaches
the page as plain text that the template escapes.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from submissions.code import submission_source
from submissions.models import Submission

from .models import Enrollment

NOISE = 25  # k: matches shorter than this many tokens are ignored (copydetect's default)
GUARANTEE = 25  # matches at least this long are always found (copydetect's default); window = GUARANTEE - NOISE + 1
MAX_STUDENTS = 400  # pairs grow quadratically: 400 students are ~80,000 comparisons
MAX_SOURCE_CHARS = 200_000
LANGUAGE_HINT = "submission.py"  # the code as graded is Python (a notebook's code cells flattened)


@dataclass
class Pair:
    a: Submission
    b: Submission
    similarity_a: float  # the share of a's fingerprinted code found in b
    similarity_b: float
    overlap_tokens: int

    @property
    def similarity(self) -> float:
        return max(self.similarity_a, self.similarity_b)


def best_submissions(*, course_exercise) -> list[Submission]:
    """Each student's best finished grading (highest score; the later of equals), students only."""
    students = Enrollment.objects.filter(course_id=course_exercise.course_id, role=Enrollment.Role.STUDENT)
    subs = (Submission.objects.filter(course_exercise=course_exercise, status__in=Submission.FINISHED,
                                      user_id__in=students.values("user_id"))
            .select_related("user", "exercise_version").order_by("created_at", "pk"))
    best: dict[int, Submission] = {}
    for sub in subs:
        current = best.get(sub.user_id)
        if current is None or (sub.score or 0) >= (current.score or 0):
            best[sub.user_id] = sub
    return sorted(best.values(), key=lambda s: s.user.username.lower())[:MAX_STUDENTS]


def _text(sub: Submission) -> str:
    return submission_source(submission=sub)[:MAX_SOURCE_CHARS]


def _fingerprint(code: str, boilerplate=None):
    from copydetect import CodeFingerprint  # imported here: it pulls in matplotlib

    return CodeFingerprint(LANGUAGE_HINT, NOISE, GUARANTEE - NOISE + 1, boilerplate=boilerplate,
                           fp=io.StringIO(code))


def _boilerplate(subs: list[Submission], course_exercise) -> list[int]:
    """The fingerprints of the starter code of every exercise version involved."""
    import numpy as np

    starters = {s.exercise_version.starter_py for s in subs}
    if course_exercise.exercise.current_version is not None:
        starters.add(course_exercise.exercise.current_version.starter_py)
    hashes: set = set()
    for starter in starters:
        hashes |= _fingerprint(starter or "").hashes
    return list(np.unique(np.array(sorted(hashes), dtype=np.int64))) if hashes else []


def similarity_pairs(*, course_exercise, limit: int = 100) -> tuple[list[Pair], int]:
    """The most similar pairs of students' best submissions, most similar first; and how many students.

    copydetect's exact comparison costs about a millisecond a pair, too slow for every pair of a large
    course in one request; so every pair is first scored by the share of fingerprints it has in common
    (a set intersection, microseconds), and only the `2 * limit` best candidates are compared exactly."""
    from copydetect import compare_files

    subs = best_submissions(course_exercise=course_exercise)
    boilerplate = _boilerplate(subs, course_exercise)
    prints = [_fingerprint(_text(s), boilerplate) for s in subs]
    candidates = []
    for i in range(len(subs)):
        for j in range(i + 1, len(subs)):
            shared = len(prints[i].hashes & prints[j].hashes)
            if shared:
                smaller = max(1, min(len(prints[i].hashes), len(prints[j].hashes)))
                candidates.append((shared / smaller, shared, i, j))
    candidates.sort(reverse=True)
    pairs = []
    for _, _, i, j in candidates[:2 * limit]:
        overlap, (sim_a, sim_b), _ = compare_files(prints[i], prints[j])
        if overlap:
            pairs.append(Pair(a=subs[i], b=subs[j], similarity_a=float(sim_a), similarity_b=float(sim_b),
                              overlap_tokens=int(overlap)))
    pairs.sort(key=lambda p: (-p.similarity, -p.overlap_tokens, p.a.pk, p.b.pk))
    return pairs[:limit], len(subs)


def _segments(code: str, slices) -> list[dict]:
    """The code cut into [{text, copied}] at copydetect's character slices (start, end rows)."""
    out, position = [], 0
    starts, ends = (slices[0], slices[1]) if len(slices) == 2 else ([], [])
    spans = sorted(zip((int(x) for x in starts), (int(x) for x in ends), strict=True))
    for start, end in spans:
        start, end = max(start, position), min(end, len(code))
        if end <= start:
            continue
        if start > position:
            out.append({"text": code[position:start], "copied": False})
        out.append({"text": code[start:end], "copied": True})
        position = end
    if position < len(code):
        out.append({"text": code[position:], "copied": False})
    return out


def similarity_pair_detail(*, course_exercise, a: Submission, b: Submission) -> dict:
    """Both codes as text segments with the shared parts marked, and the two similarities."""
    from copydetect import compare_files

    boilerplate = _boilerplate([a, b], course_exercise)
    code_a, code_b = _text(a), _text(b)
    overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(_fingerprint(code_a, boilerplate),
                                                                  _fingerprint(code_b, boilerplate))
    return {"similarity_a": float(sim_a), "similarity_b": float(sim_b), "overlap_tokens": int(overlap),
            "segments_a": _segments(code_a, slices_a) if overlap else [{"text": code_a, "copied": False}],
            "segments_b": _segments(code_b, slices_b) if overlap else [{"text": code_b, "copied": False}]}
