"""The steps every grading shares: plan the probes and the job, read the sandbox's frames back
(untrusted, through `outputs.Run`), judge a check, and the results of a grading that stopped.
grader/probe_grading.py and grader/training.py put them together; grader/judge.py dispatches."""
from __future__ import annotations

import secrets
import signal
import time

from . import staticscan
from .feedback import CheckFailure
from .harness import protocol
from .outputs import Run
from .probes import Planner
from .result import Result, TestResult
from .sandbox import SandboxRun
from .spec import DELEGATION_TITLE, CheckSpec, Exercise, Limits
from .untrusted import untrusted


def new_nonce() -> str:
    """The job's nonce: only the harness's supervisor, which never runs student code, receives it."""
    return secrets.token_hex(16)


def base_spec(exercise: Exercise, source: str, seed: int) -> dict:
    """The job fields every mode shares: nonce, seeds, threads, the submission and the guards."""
    delegation = exercise.delegation
    return dict(
        nonce=new_nonce(), seed=seed, threads=max(1, int(exercise.limits.cpus)),
        channel_cap=exercise.limits.output_mb * 2**20,
        probe_timeout_s=exercise.limits.probe_time_s,
        submission={"module": exercise.module, "source": source},
        guards={k: delegation[k] for k in ("python", "kl_registry", "torch_function_patterns") if k in delegation},
    )


def plan_job(exercise: Exercise, source: str, seed: int, **extra) -> tuple[Planner, dict, bytes, str]:
    """Plan every check's probes; `extra` adds job fields (a training job's mode, program, ...)."""
    planner = Planner(seed)
    planned = {c.name: c.check.plan(planner) for c in exercise.checks if c.check is not None}
    spec, blob = planner.job(**base_spec(exercise, source, seed), **extra)
    return planner, planned, protocol.encode_job(spec, blob), spec["nonce"]


# What runs, for the messages: (noun after "during", phrase after "while").
_PHASES = {"import": ("your module's import", "running your module's import"),
           "train": ("training", "training"), "sample": ("sampling", "sampling")}


def read_run(raw: SandboxRun, planner: Planner, nonce: str, limits: Limits) -> tuple[Run, str, str, dict]:
    """Decode the sandbox's frames into a Run; decide the status and the summary message.

    extra: the student's output, versions, timings, the last phase ("import", "probe",
    "train", "sample" or None) and the first frame of every other kind (training frames)."""
    run = Run(descriptions=planner.descriptions)
    current, phase, done = ("the start-up of the grader", "the start-up of the grader"), None, None
    frames: dict[str, tuple[dict, bytes]] = {}
    forged: list[str] = []  # frames the harness did not send: the harness reports an intrusion, or the judge sees one
    for kind, payload, blob in protocol.decode_frames(raw.stdout, nonce):
        if done is not None:
            forged.append(f"a {kind!r} frame after the end")
            continue
        if kind == "phase":  # the first phase frame precedes any student code
            probe = payload.get("probe")
            if payload.get("phase") in _PHASES:
                phase = payload["phase"]
                current = _PHASES[phase]
            elif probe in planner.descriptions:
                phase = "probe"
                current = (f"`{planner.descriptions[probe][0]}`", f"running `{planner.descriptions[probe][0]}`")
        elif kind == "probe":
            if not run.add_probe(payload, blob):
                forged.append(f"a second or unplanned frame for probe {str(payload.get('id'))[:60]!r}")
        elif kind == "done":
            done = payload
        elif kind == "intrusion":
            forged.append(str(payload.get("reason", "something the harness did not write"))[:300])
        else:
            frames.setdefault(kind, (payload, blob))
    status, message = "graded", ""
    if forged:
        status = "error"
        message = ("The grader's channel carried results the harness did not send "
                   f"({untrusted(forged[0])}): they were refused and your code's results were not used. "
                   "Do not write to the grader's pipes or files.")
    elif phase is None:
        status = "infrastructure_error"
        how = "timed out" if raw.timed_out else "ran out of memory" if raw.oom_killed else _describe_exit(raw.exit_code)
        message = (f"The grader failed to start in the sandbox ({how}) before running any of your code; "
                   "this attempt does not count.")
    elif raw.oom_killed:
        status = "memory_limit"
        message = f"Your code used more than the memory limit of {limits.memory_mb} MB while {current[1]}."
    elif raw.timed_out:
        status = "timeout"
        message = f"The time limit of {limits.wall_time_s:g} s ran out while {current[1]}."
    elif raw.output_overflow:
        status = "error"
        message = f"Your code wrote more than {limits.output_mb} MB to the grader's output channel."
    elif done is None:
        status = "error"
        how = _describe_exit(raw.exit_code)
        message = f"The process running your code ended ({how}) during {current[0]}."
        if phase == "import":
            message += " Do not call `exit()`, `sys.exit()` or `os._exit()` at module level."
    elif isinstance(done.get("import_error"), dict):
        status = "error"
        run.import_error = done["import_error"]
        message = "Your module could not be imported."
    if status != "graded":
        run.stopped_reason = message[0].lower() + message[1:].rstrip(".")
    if done and isinstance(done.get("import_forbidden"), list):
        run.forbidden_at_import = [str(x)[:100] for x in done["import_forbidden"]]
    output = done.get("output") if done else None
    harness_timings: dict = done["timings"] if done and isinstance(done.get("timings"), dict) else {}
    extra = {"student_output": output if isinstance(output, dict) else None,
             "versions": done.get("versions") if done and isinstance(done.get("versions"), dict) else {},
             "timings": {f"sandbox_{k}": float(v) for k, v in harness_timings.items()
                         if isinstance(v, (int, float)) and isinstance(k, str)},
             "phase": phase, "frames": frames, "forged": forged}
    return run, status, message, extra


def printed_output(student: dict | None, when: str = "") -> str:
    """What the student's code printed (capped), for the result's output: shown escaped, never as Markdown."""
    if not student or not student.get("text"):
        return ""
    text = str(student["text"])[-4000:]
    cut = " (truncated)" if int(student.get("bytes", 0) or 0) > len(student["text"]) else ""
    return f"\n\nYour code printed{when}{cut}:" + untrusted(text, block=True)


def _describe_exit(code: int | None) -> str:
    """Docker reports death by signal N as 128 + N; a subprocess as -N."""
    signum = -code if code is not None and code < 0 else (code - 128 if code is not None and code > 128 else None)
    if signum:
        try:
            return f"killed by signal {signal.Signals(signum).name}"
        except ValueError:
            return f"killed by signal {signum}"
    return f"exit code {code}"


def judge_check(spec: CheckSpec, run: Run, planned, source: str, exercise: Exercise) -> TestResult:
    title = spec.check.title if spec.check else DELEGATION_TITLE
    try:
        if spec.check is None:
            note = _judge_delegation(run, source, exercise)
        else:
            note = spec.check.judge(run, planned)
        return TestResult(spec.name, title, spec.points, spec.points, "passed", note or "", spec.visibility)
    except CheckFailure as failure:
        return TestResult(spec.name, title, 0.0, spec.points, "failed", failure.markdown(), spec.visibility)
    except Exception as exc:  # a bug in a check, not the student's fault: say so
        return TestResult(spec.name, title, 0.0, spec.points, "error",
                          f"The grader could not evaluate this check ({type(exc).__name__}: {exc}). "
                          "Please report this to your instructor.", spec.visibility)


def _judge_delegation(run: Run, source: str, exercise: Exercise) -> str | None:
    if not run.any_call_succeeded():
        raise CheckFailure("None of your functions ran successfully, so there is no implementation to credit yet.")
    rules = exercise.delegation
    findings = staticscan.scan(source, rules.get("static", []))
    hidden = staticscan.hiding(source, rules.get("allowed_imports", []))
    seen = run.all_forbidden()
    messages = []
    if findings or seen:
        where = [f"`{f.name}` (line {f.line})" for f in findings] + [f"a call to {untrusted(s)} at run time"
                                                                       for s in seen]
        messages.append("Your submission uses library code this exercise asks you to write yourself: "
                        + ", ".join(dict.fromkeys(where)) + ".")
    if hidden:
        messages.append("Your submission uses constructs that can hide which library functions it calls, "
                        "so the grader cannot credit it as your own implementation:\n\n"
                        + "\n".join(f"- {untrusted(f.name)} (line {f.line}) {f.reason}" for f in hidden))
    if messages:
        raise CheckFailure("\n\n".join(messages),
                           hint="Implement the formula with basic tensor operations, and call every function "
                                "by its name (the statement lists what this check refuses).")
    return None


def infrastructure_error(exercise: Exercise, exc: Exception, started: float, provenance: dict) -> Result:
    return Result(status="infrastructure_error", score=0.0, max_score=exercise.max_score,
                  execution_time=time.monotonic() - started, provenance=provenance,
                  output=f"The grading infrastructure failed; this attempt does not count. ({exc})")


def harness_did_not_start(exercise: Exercise, raw: SandboxRun, message: str, started: float,
                          provenance: dict) -> Result:
    """The sandbox ran but the harness died before any student code: not the student's fault."""
    provenance["sandbox_stderr"] = raw.stderr[-2000:].decode("utf-8", "replace")
    return Result(status="infrastructure_error", score=0.0, max_score=exercise.max_score, output=message,
                  execution_time=time.monotonic() - started, provenance=provenance, timings=raw.timings)


def failed_everywhere(exercise: Exercise, status: str, message: str, started: float, provenance: dict) -> Result:
    tests = [TestResult(c.name, c.check.title if c.check else DELEGATION_TITLE,
                        0.0, c.points, "failed", message, c.visibility) for c in exercise.checks]
    return Result(status=status, score=0.0, max_score=exercise.max_score, execution_time=time.monotonic() - started,
                  output=message, tests=tests, provenance=provenance)


def judge_all(exercise: Exercise, run: Run, planned: dict, source: str) -> tuple[list[TestResult], float]:
    """Every check's result, and the seconds judging took."""
    judging = time.monotonic()
    tests = [judge_check(spec, run, planned.get(spec.name), source, exercise) for spec in exercise.checks]
    return tests, time.monotonic() - judging
