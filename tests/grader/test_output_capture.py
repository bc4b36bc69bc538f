"""The harness's capture of the student's stdout and stderr (grader/harness/capture.py).

Each case runs in a fresh interpreter, because the capture takes over fds 1 and 2.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_capturing(body: str) -> dict:
    """Run `body` with `OutputCapture` importable and a private `result(obj)` that reaches the test."""
    script = textwrap.dedent("""
        import json, os, sys
        sys.path.insert(0, sys.argv[1])
        from grader.harness.capture import OutputCapture
        _private = os.dup(1)

        def result(obj):
            os.write(_private, json.dumps(obj).encode())
    """) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_the_report_holds_the_last_thing_printed_every_time():
    # Reporting right after a print used to race the reader thread: it could
    # hold the last chunk without having stored it yet.
    outcome = run_capturing("""
        lost = []
        for attempt in range(300):
            capture = OutputCapture(cap=1 << 20)
            for line in range(attempt % 7):
                os.write(1, b"x" * 4096)
            os.write(2, f"last line {attempt}\\n".encode())
            text = capture.report()["text"]
            if not text.endswith(f"last line {attempt}\\n"):
                lost.append(attempt)
        result(lost)
    """)
    assert outcome == []


def test_output_past_the_cap_is_counted_not_kept_and_later_prints_go_nowhere():
    outcome = run_capturing("""
        capture = OutputCapture(cap=100)
        print("a" * 250, flush=True)
        report = capture.report()
        print("after the report", flush=True)
        result(report)
    """)
    assert outcome == {"text": "a" * 100, "bytes": 251}


def test_a_forked_child_that_keeps_the_pipe_open_delays_the_report_by_at_most_the_timeout():
    outcome = run_capturing("""
        import time
        capture = OutputCapture(cap=1000)
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        print("parent", flush=True)
        started = time.monotonic()
        report = capture.report(timeout=0.5)
        result({"text": report["text"], "seconds": time.monotonic() - started})
    """)
    assert outcome["text"] == "parent\n"
    assert outcome["seconds"] < 2.5
