"""Live progress (grader.progress and the harness's Budget): progress frames are read from the
growing output of a running sandbox as untrusted display data: numbers only, capped."""
import json

from grader.harness import protocol
from grader.harness import training as harness_training
from grader.progress import MAX_POINTS, MAX_SERIES, JobWatch, ProgressTap

NONCE = "a" * 32


def _tap(**kw):
    reports = []
    tap = ProgressTap(NONCE, JobWatch(report=reports.append), phase="training", steps=100, budget_s=60.0, **kw)
    return tap, reports


def frame(payload, nonce=NONCE, kind="progress") -> bytes:
    return protocol.encode_frame(nonce, kind, payload)


def test_frames_are_read_as_they_arrive_even_split_mid_frame():
    tap, reports = _tap()
    stream = bytearray(b"student print\n")
    data = frame({"step": 10, "values": {"loss": 2.5}}) + frame({"step": 20, "values": {"loss": 1.5}})
    cut = len(data) - 7
    stream += data[:cut]
    tap.feed(stream)
    assert reports[-1]["step"] == 10 and reports[-1]["series"] == {"loss": [[10, 2.5]]}
    stream += data[cut:]
    tap.feed(stream)
    summary = reports[-1]
    assert summary["step"] == 20 and summary["series"] == {"loss": [[10, 2.5], [20, 1.5]]}
    assert (summary["phase"], summary["steps"], summary["budget_s"]) == ("training", 100, 60.0)
    json.dumps(summary, allow_nan=False)  # plain JSON, safe to store and send


def test_forged_and_malformed_frames_are_ignored():
    tap, reports = _tap()
    stream = bytearray()
    stream += frame({"step": 5, "values": {"loss": 9.0}}, nonce="b" * 32)  # another job's nonce
    stream += frame({"step": 6, "values": {"loss": 9.0}}, kind="probe")  # not a progress frame
    stream += protocol.FRAME_PREFIX + f"{NONCE} progress 12 0\n".encode() + b"{not json!!}"
    stream += protocol.FRAME_PREFIX + f"{NONCE} progress 5 99\n".encode() + b"{}{}{"  # a blob: refused
    stream += frame({"step": -1, "values": {"loss": 1.0}})
    stream += frame({"step": True, "values": {"loss": 1.0}})
    stream += frame({"step": 10**12, "values": {"loss": 1.0}})
    stream += frame({"step": 7, "values": {"loss": float("nan"), "<script>": 1.0, "ok": float("inf"),
                                           "grad_norm": "3", "lr": 0.001}})
    tap.feed(stream)
    assert reports[-1]["step"] == 7 and reports[-1]["series"] == {"lr": [[7, 0.001]]}


def test_series_and_points_are_capped_and_steps_only_move_forward():
    tap, reports = _tap()
    stream = bytearray()
    stream += frame({"step": 1, "values": {f"v{i}": float(i) for i in range(10)}})
    for step in range(2, 3 * MAX_POINTS):
        stream += frame({"step": step, "values": {"v0": float(step)}})
    stream += frame({"step": 5, "values": {"v0": -1.0}})  # back in time: dropped
    tap.feed(stream)
    series = reports[-1]["series"]
    assert len(series) == MAX_SERIES
    points = series["v0"]
    assert len(points) <= MAX_POINTS and points[0] == [1, 0.0] and points[-1][0] == 3 * MAX_POINTS - 1
    assert all(a[0] < b[0] for a, b in zip(points, points[1:], strict=False))


def test_the_sampling_phase_keeps_the_training_curve():
    train, _ = _tap()
    train.feed(bytearray(frame({"step": 40, "values": {"loss": 0.3}})))
    reports = []
    sampling = ProgressTap(NONCE, JobWatch(report=reports.append), phase="sampling", steps=100, budget_s=30.0,
                           series=train.series)
    sampling.step = train.step
    sampling.start()
    assert reports[-1]["phase"] == "sampling" and reports[-1]["step"] == 40
    assert reports[-1]["series"] == {"loss": [[40, 0.3]]}


def test_the_harness_budget_emits_progress_every_few_seconds(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(harness_training.time, "monotonic", lambda: clock[0])
    sent = []
    budget = harness_training.Budget({"steps": 50, "batch_size": 8, "seed": 1, "device": "cpu"}, 60,
                                     emit=lambda kind, payload: sent.append((kind, payload)))
    budget.log(0, loss=3.0)
    for step in range(1, 10):
        clock[0] += 1.0
        budget.log(step, loss=3.0 - step / 10)
        budget.should_stop(step)
    assert [k for k, _ in sent] == ["progress"] * len(sent)
    steps = [p["step"] for _, p in sent]
    assert steps == [1, 4, 7, 10]  # at 0 s, 3 s, 6 s, 9 s: every PROGRESS_EVERY_S
    assert sent[-1][1]["values"] == {"loss": 3.0 - 9 / 10}
