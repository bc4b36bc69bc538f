"""An uploaded exercise bundle (a .zip of one exercise folder), validated without trusting it.

An exercise's checks.py runs on the judge's side of the trust boundary, so an uploaded one is
untrusted until a person approves it: nothing of the upload is imported here. This module only
reads the zip (grader.bundle.read_bundle: no links, no parent paths, size caps) and its
exercise.toml (TOML is data), then runs `validate`, the same one `python -m grader validate` runs,
inside a sandbox container (DockerSandbox.run_program): the worker's own grader, reference models
and the cores the exercise extends travel with the upload on the container's stdin, the
container grades each case with the trusted subprocess runner, and prints a JSON report. The
report is untrusted output and is read as such (size-capped, every field checked). It is also
the upload's own word: its checks.py runs in the process that writes the report and could forge
it, which is why an approval also reads the code (the platform's import page shows every file).

Function exercises only: a training exercise's validation trains a model per case against the
training split, which does not enter such a container; the operator adds those from exercises/.
"""
from __future__ import annotations

import io
import json
import re
import struct
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .bundle import BundleError, read_bundle
from .spec import EXERCISES_DIR, REPO_ROOT, Limits
from .version import GRADER_DIR

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
REPORT_MAX_BYTES = 2 * 1024 * 1024
NO_REPORT = "The validation printed no report."
MESSAGE_MAX_CHARS = 2000
# A whole validation in one container: every case graded in turn by the trusted subprocess runner.
LIMITS = Limits(wall_time_s=900, probe_time_s=60, memory_mb=3072, cpus=1.0, pids=256, scratch_mb=512, output_mb=4)
BOOT = ("import io,struct,sys,zipfile;n=struct.unpack('>Q',sys.stdin.buffer.read(8))[0];"
        "zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read(n))).extractall('/tmp/v');"
        "sys.path.insert(0,'/tmp/v');from grader.import_validation import main;main()")


class ImportRefused(ValueError):
    """An upload that is not a bundle of one function exercise; the message is for the instructor."""


@dataclass
class CaseVerdict:
    name: str
    expected: list[str]
    failed: list[str]
    status: str
    score: float
    max_score: float
    messages: dict[str, str] = field(default_factory=dict)  # the failed checks' output, untrusted text

    @property
    def ok(self) -> bool:
        return self.status != "infrastructure_error" and set(self.expected) == set(self.failed)


@dataclass
class ImportReport:
    slug: str
    ok: bool
    error: str = ""  # why no report could be made (a spec error, a crash, a timeout)
    title: str = ""
    version: str = ""
    max_score: float = 0.0
    cases: list[CaseVerdict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"slug": self.slug, "ok": self.ok, "error": self.error, "title": self.title, "version": self.version,
                "max_score": self.max_score,
                "cases": [{**vars(c), "ok": c.ok} for c in self.cases]}


def read_upload(data: bytes) -> tuple[str, dict[str, bytes]]:
    """(slug, {path inside the exercise folder: content}) of a zip holding one exercise folder, either
    at the top of the zip (the slug is then the zip's name, checked by the caller) or as its only
    folder. Refuses anything else with a message."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRefused(f"The bundle is {len(data):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}.")
    try:
        files = read_bundle(data, skip_directories=True)
    except BundleError as exc:
        raise ImportRefused(f"The bundle could not be read: {exc}.") from None
    files = {name: content for name, content in files.items()
             if not any(part in ("__pycache__", ".DS_Store") or part.startswith("._") for part in name.split("/"))}
    tops = {name.split("/", 1)[0] for name in files}
    if "exercise.toml" in files:
        slug, inner = "", files
    elif len(tops) == 1 and all("/" in name for name in files):
        slug = tops.pop()
        inner = {name.split("/", 1)[1]: content for name, content in files.items()}
    else:
        raise ImportRefused("The zip must hold one exercise folder (its exercise.toml, checks.py, statement.md, "
                            "starter.py, solution.py, right/ and wrong/), or those files at its top.")
    if "exercise.toml" not in inner:
        raise ImportRefused("The exercise folder has no exercise.toml.")
    return slug, inner


def check_slug(slug: str, taken: set[str]) -> str:
    if not SLUG.match(slug):
        raise ImportRefused(f"“{slug[:60]}” is not a valid exercise name: 3 to 50 lower-case letters, digits and "
                            "hyphens, starting and ending with a letter or digit.")
    if slug in taken:
        raise ImportRefused(f"An exercise named “{slug}” already exists; rename the folder to import a new one.")
    return slug


def read_spec_table(files: dict[str, bytes]) -> dict:
    """exercise.toml as data, refusing training exercises."""
    try:
        table = tomllib.loads(files["exercise.toml"].decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ImportRefused(f"exercise.toml is not valid TOML: {str(exc)[:300]}") from None
    if "training" in table:
        raise ImportRefused("Training exercises cannot be imported from the web: their validation trains a model "
                            "per case against the training split. Ask the operator to add it to exercises/.")
    return table


def extended_cores(table: dict) -> list[str]:
    """The slugs of the core exercises it extends (they must exist here: they come from this checkout)."""
    raw = table.get("extends", [])
    entries = [raw] if isinstance(raw, (str, dict)) else raw if isinstance(raw, list) else []
    slugs = [e if isinstance(e, str) else e.get("slug") if isinstance(e, dict) else None for e in entries]
    missing = [str(s)[:60] for s in slugs
               if not isinstance(s, str) or not SLUG.match(s) or not (EXERCISES_DIR / s / "exercise.toml").is_file()]
    if missing:
        raise ImportRefused(f"It extends exercises that do not exist here: {', '.join(missing)}.")
    return [s for s in slugs if isinstance(s, str)]


def _trusted_files(cores: list[str]) -> dict[str, bytes]:
    """The worker's grader and reference models, and the core exercises' folders, by repository path."""
    out: dict[str, bytes] = {}
    roots = [GRADER_DIR, REPO_ROOT / "reference_models", *(EXERCISES_DIR / c for c in cores)]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                out[path.relative_to(REPO_ROOT).as_posix()] = path.read_bytes()
    return out


def payload(slug: str, files: dict[str, bytes], cores: list[str]) -> bytes:
    """What the container reads on stdin: an 8-byte length, then a zip of the trusted files and the
    upload under exercises/<slug>/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _trusted_files(cores).items():
            archive.writestr(name, content)
        for name, content in files.items():
            archive.writestr(str(PurePosixPath("exercises", slug, name)), content)
        archive.writestr("UPLOADED", slug)  # which folder is the upload (import_validation); outside it: its
        # version hashes its folder's files
    data = buffer.getvalue()
    return struct.pack(">Q", len(data)) + data


def _text(value, limit: int = MESSAGE_MAX_CHARS) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _number(value) -> float:
    from .numbers import finite_or_none

    return finite_or_none(value) or 0.0


def _names(value) -> list[str]:
    return [_text(v, 100) for v in value[:200] if isinstance(v, str)] if isinstance(value, list) else []


def parse_report(slug: str, stdout: bytes) -> ImportReport:
    """The container's report, read as untrusted JSON: every field checked, text capped."""
    line = stdout[-REPORT_MAX_BYTES:].strip().rsplit(b"\n", 1)[-1]
    try:
        raw = json.loads(line)
    except ValueError:
        return ImportReport(slug, False, error=NO_REPORT)
    if not isinstance(raw, dict):
        return ImportReport(slug, False, error=NO_REPORT)
    if raw.get("error"):
        return ImportReport(slug, False, error=_text(raw.get("error")))
    cases = []
    for c in raw.get("cases", [])[:500] if isinstance(raw.get("cases"), list) else []:
        if not isinstance(c, dict):
            continue
        raw_messages = c.get("messages")
        messages: dict = raw_messages if isinstance(raw_messages, dict) else {}
        cases.append(CaseVerdict(_text(c.get("name"), 200), _names(c.get("expected")), _names(c.get("failed")),
                                 _text(c.get("status"), 40), _number(c.get("score")), _number(c.get("max_score")),
                                 {_text(k, 100): _text(v) for k, v in list(messages.items())[:50]}))
    ok = bool(cases) and cases[0].name == "solution" and all(c.ok for c in cases)
    error = "" if cases else "The report lists no cases."
    return ImportReport(slug, ok, error=error, title=_text(raw.get("title"), 200),
                        version=_text(raw.get("version"), 64), max_score=_number(raw.get("max_score")), cases=cases)


def validate_upload(slug: str, files: dict[str, bytes], sandbox) -> ImportReport:
    """Validate the uploaded exercise in a container (`sandbox`: a DockerSandbox)."""
    cores = extended_cores(read_spec_table(files))
    run = sandbox.run_program(["python3", "-s", "-B", "-c", BOOT], payload(slug, files, cores), LIMITS)
    if run.timed_out:
        return ImportReport(slug, False, error=f"The validation ran past its {LIMITS.wall_time_s} s limit.")
    if run.oom_killed:
        return ImportReport(slug, False, error=f"The validation ran out of memory ({LIMITS.memory_mb} MB).")
    if run.output_overflow:
        return ImportReport(slug, False, error="The validation printed more than its output limit.")
    report = parse_report(slug, run.stdout)
    if report.error == NO_REPORT:  # it crashed before printing one: say how, with its last words
        tail = run.stderr.decode("utf-8", "replace")[-1500:].strip()
        report.error += f" It stopped with exit status {run.exit_code}" + (f": {tail}" if tail else ".")
    return report


def write_folder(root: Path, slug: str, files: dict[str, bytes], cores: list[str]) -> Path:
    """The approved exercise as an exercises/-like folder under `root` (its cores beside it, copied
    from this checkout), for catalog sync. Returns `root`."""
    for name, content in files.items():
        path = root / slug / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    for core in cores:
        for source in (EXERCISES_DIR / core).rglob("*"):
            if source.is_file() and "__pycache__" not in source.parts:
                target = root / core / source.relative_to(EXERCISES_DIR / core)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read_bytes())
    return root
