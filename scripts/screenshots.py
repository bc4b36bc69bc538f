"""Screenshots of the course site for the README, taken with Playwright and Debian's Chromium.

Against a running demo (`manage.py demo` printed the passwords):

    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:8000 \\
        --student alice:PASSWORD --instructor instructor:PASSWORD

or `--demo` to start a private one here (a fresh database under a temporary folder, `manage.py demo`,
a redis-server and a Celery worker on free loopback ports, and `runserver`), all stopped at the end.
The student's wrong submission is graded for real, so Docker and the sandbox image must be there
(`make image`). Writes docs/screenshots/{student-exercise,student-exercise-phone,feedback,
submission-code,submission-code-phone,course-page,instructor-dashboard,gradebook,gradebook-phone,roster,
similarity,exercise-imports}.png. Chromium never reaches beyond 127.0.0.1: its background services are off.

`--demo --leaderboard` also trains `generate-fashion` at the tiny profile for real (alice: the solution;
bob: the starter, then training copies in disguise), moves the deadline into the past, reveals the
private board and writes docs/screenshots/{training-result,leaderboard,memorisation-report}.png
(about ten minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXERCISE = "vae-reparam"
WRONG = '''import torch
from torch import Tensor


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """z = mu + sigma * eps ... with the variance where the standard deviation belongs."""
    eps = torch.randn_like(mu)
    return mu + torch.exp(logvar) * eps
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as exc:
        return getattr(exc, "code", None) is not None  # an HTTP error still means it answers


@contextlib.contextmanager
def demo_site(profile: str = "cpu"):
    """A private demo: fresh database, demo course, Redis, a Celery worker per queue, runserver. Yields
    (base_url, {"instructor": password, "alice": password, ...}, manage command, env)."""
    tmp = Path(tempfile.mkdtemp(prefix="dgm-shots-"))
    redis_port, web_port = free_port(), free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "DGM_VAR_DIR": str(tmp),
           "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "DJANGO_DEBUG": "false", "DGM_TRAINING_PROFILE": profile,
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "platform"), str(REPO_ROOT)])}
    manage = [sys.executable, str(REPO_ROOT / "manage.py")]
    procs: list[subprocess.Popen] = []
    log = open(tmp / "services.log", "wb")
    try:
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=REPO_ROOT)
        out = subprocess.run([*manage, "demo"], env=env, check=True, cwd=REPO_ROOT, capture_output=True,
                             text=True).stdout
        passwords = dict(re.findall(r"^\w+\s+(\w+)\s+password: (\S+)$", out, re.MULTILINE))
        redis = shutil.which("redis-server")
        if not redis:
            raise SystemExit("redis-server is not installed: bash scripts/start-redis.sh")
        procs.append(subprocess.Popen([redis, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(tmp)], stdout=log, stderr=log))
        for queue in ("quick", "training"):
            procs.append(subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue,
                                           "--concurrency", "1", "--without-gossip", "--without-mingle",
                                           "--hostname", f"shots-{queue}-{os.getpid()}@localhost"],
                                          cwd=REPO_ROOT / "platform", env=env, stdout=log, stderr=log))
        procs.append(subprocess.Popen([*manage, "runserver", "--noreload", "--insecure", f"127.0.0.1:{web_port}"],
                                      cwd=REPO_ROOT, env=env, stdout=log, stderr=log))
        base = f"http://127.0.0.1:{web_port}"
        wait_until(lambda: answers(base + "/login/"), "runserver")
        yield base, passwords, manage, env
    except BaseException:
        log.flush()
        sys.stderr.write("--- the demo's services said:\n" + (tmp / "services.log").read_text(errors="replace")[-6000:])
        raise
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def take(base: str, student: tuple[str, str], instructor: tuple[str, str], course: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        desktop = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        page = desktop.new_page()
        log_in(page, base, *student)
        exercise_url = f"{base}/courses/{course}/{EXERCISE}/"
        page.goto(exercise_url)
        page.wait_for_function("document.querySelectorAll('.math[data-rendered]').length > 0")
        written.append(OUT_DIR / "student-exercise.png")
        page.screenshot(path=written[-1], full_page=False)

        page.fill("textarea[name=source]", WRONG)
        page.click("#panel-editor button[type=submit]")
        page.wait_for_selector("#status[data-status=graded]", timeout=240_000)
        page.wait_for_selector(".check.failed")
        page.set_viewport_size({"width": 1280, "height": 1350})  # the stepper, the score and the failed checks
        page.evaluate("window.scrollTo(0, 0)")
        written.append(OUT_DIR / "feedback.png")
        page.screenshot(path=written[-1], full_page=False)

        phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                    has_touch=True)
        phone_page = phone.new_page()
        log_in(phone_page, base, *student)
        phone_page.goto(exercise_url)
        phone_page.wait_for_function("document.querySelectorAll('.math[data-rendered]').length > 0")
        written.append(OUT_DIR / "student-exercise-phone.png")
        phone_page.screenshot(path=written[-1], full_page=False)

        # The fixed code, submitted again: its code page shows the diff against the wrong one.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(exercise_url)
        page.fill("textarea[name=source]", FIXED)
        page.click("#panel-editor button[type=submit]")
        page.wait_for_selector("#status[data-status=graded]", timeout=240_000)
        page.get_by_role("link", name="View the code").click()
        page.wait_for_selector("#diff pre.diff")
        written.append(OUT_DIR / "submission-code.png")
        page.screenshot(path=written[-1], full_page=True)
        phone_page.goto(page.url)
        written.append(OUT_DIR / "submission-code-phone.png")
        phone_page.screenshot(path=written[-1], full_page=False)
        page.goto(f"{base}/courses/{course}/")
        written.append(OUT_DIR / "course-page.png")
        page.screenshot(path=written[-1], full_page=False)

        teacher = browser.new_context(viewport={"width": 1280, "height": 900})
        tpage = teacher.new_page()
        log_in(tpage, base, *instructor)
        for name, path in (("instructor-dashboard", f"/courses/{course}/dashboard/"),
                           ("gradebook", f"/instructor/{course}/gradebook/"),
                           ("roster", f"/instructor/{course}/roster/"),
                           ("similarity", f"/instructor/{course}/exercises/{EXERCISE}/similarity/"),
                           ("exercise-imports", "/imports/")):
            tpage.goto(base + path)
            written.append(OUT_DIR / f"{name}.png")
            tpage.screenshot(path=written[-1], full_page=name != "gradebook")
        tphone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                     has_touch=True).new_page()
        log_in(tphone, base, *instructor)
        tphone.goto(f"{base}/instructor/{course}/gradebook/")
        written.append(OUT_DIR / "gradebook-phone.png")
        tphone.screenshot(path=written[-1], full_page=False)
        browser.close()
    return written


FIXED = WRONG.replace("torch.exp(logvar) * eps", "torch.exp(0.5 * logvar) * eps")
TRAINED = "generate-fashion"


def upload_and_wait(page, base: str, course: str, path: Path) -> str:
    """Submits a file on the exercise page and waits for its grading; returns the submission's URL."""
    page.goto(f"{base}/courses/{course}/{TRAINED}/")
    page.get_by_role("tab", name="Upload a file").click()
    page.set_input_files("input[type=file][name=file]", str(path))
    page.get_by_role("button", name="Upload and submit").click()
    page.wait_for_url(re.compile(r".*/submissions/\d+/$"))
    page.wait_for_selector("#status[data-status=graded], #status[data-status=error]", timeout=900_000)
    return page.url


def take_leaderboard(base: str, passwords: dict, course: str, manage: list[str], env: dict) -> list[Path]:
    """Real trainings at the tiny profile, the reveal of the private board, and the shots."""
    from playwright.sync_api import sync_playwright

    folder = REPO_ROOT / "exercises" / TRAINED
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        alice = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(alice, base, "alice", passwords["alice"])
        result_url = upload_and_wait(alice, base, course, folder / "solution.py")
        bob = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(bob, base, "bob", passwords["bob"])
        upload_and_wait(bob, base, course, folder / "starter.py")
        copies_url = upload_and_wait(bob, base, course, folder / "wrong" / "disguised_copies.py")
        subprocess.run([*manage, "shell", "-c",
                        "from datetime import timedelta; from django.utils import timezone; "
                        "from catalog.models import CourseExercise; "
                        f"CourseExercise.objects.filter(course__slug={course!r}, exercise__slug={TRAINED!r})"
                        ".update(deadline=timezone.now() - timedelta(minutes=1))"],
                       env=env, check=True, cwd=REPO_ROOT)
        teacher = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in(teacher, base, "instructor", passwords["instructor"])
        board_url = f"{base}/courses/{course}/{TRAINED}/leaderboard/"
        teacher.goto(board_url)
        teacher.click("#reveal-form button[type=submit]")
        deadline = time.monotonic() + 600
        while "being scored" in teacher.content() and time.monotonic() < deadline:
            time.sleep(5)
            teacher.goto(board_url)
        alice.goto(result_url)
        written.append(OUT_DIR / "training-result.png")
        alice.evaluate("document.querySelector('header.top').style.position = 'static'")  # not over the shot
        alice.locator("#training").screenshot(path=written[-1])
        alice.goto(board_url)
        written.append(OUT_DIR / "leaderboard.png")
        alice.screenshot(path=written[-1], full_page=True)
        teacher.goto(copies_url.rstrip("/") + "/leaderboard/memorisation/")
        written.append(OUT_DIR / "memorisation-report.png")
        teacher.screenshot(path=written[-1], full_page=True)
        browser.close()
    return written


def credentials(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("use USERNAME:PASSWORD")
    return user, password


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--student", type=credentials, help="USERNAME:PASSWORD of a student of the course")
    parser.add_argument("--instructor", type=credentials, help="USERNAME:PASSWORD of its instructor")
    parser.add_argument("--course", default="dgm-demo")
    parser.add_argument("--demo", action="store_true", help="start a private demo site for the shots")
    parser.add_argument("--leaderboard", action="store_true",
                        help="with --demo: train generate-fashion for real and shoot the result page and the boards")
    args = parser.parse_args()
    if args.leaderboard and not args.demo:
        parser.error("--leaderboard needs --demo (it moves the deadline in the demo's own database)")
    if args.demo:
        with demo_site(profile="tiny" if args.leaderboard else "cpu") as (base, passwords, manage, env):
            if args.leaderboard:
                shots = take_leaderboard(base, passwords, args.course, manage, env)
            else:
                shots = take(base, ("alice", passwords["alice"]), ("instructor", passwords["instructor"]),
                             args.course)
    else:
        if not (args.student and args.instructor):
            parser.error("--student and --instructor are required without --demo")
        shots = take(args.base_url.rstrip("/"), args.student, args.instructor, args.course)
    for path in shots:
        print(path.relative_to(REPO_ROOT))


if __name__ == "__main__":
    main()
