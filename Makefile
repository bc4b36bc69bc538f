# Two commands do all the set-up on a fresh machine:
#   make run    bring up the whole platform (Redis, database, demo course, worker pools, beat, gunicorn)
#   make test   run the full test suite (starts Docker, builds the image)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv system docker stop-docker image redis postgres assets browser test test-fast run compose lint bench clean

$(VENV)/.installed: pyproject.toml $(wildcard requirements/*.txt)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]' $(addprefix -r ,$(wildcard requirements/*.txt))
	touch $@

venv: $(VENV)/.installed

system:
	bash scripts/install-system-deps.sh

docker: system
	bash scripts/start-docker.sh

# The engine outlives `make run` (Ctrl-C stops the platform, not Docker); this stops it.
stop-docker:
	bash scripts/stop-docker.sh

image: venv docker
	$(PY) -m grader build-image

redis:
	bash scripts/start-redis.sh

postgres:
	bash scripts/start-postgres.sh

# KaTeX and highlight.js from the npm registry (pinned, into build/npm; never a CDN at run time).
assets:
	bash scripts/install-assets.sh

# Debian's Chromium for the browser tests (tests/e2e) and scripts/screenshots.py.
browser:
	bash scripts/install-browser.sh

# The full suite on SQLite, then the platform's tests again on PostgreSQL (what production runs).
test: lint image redis assets browser
	$(PY) -m pytest
	DATABASE_URL="$$(bash scripts/start-postgres.sh | tail -1)" $(PY) -m pytest tests/web

# The platform on 127.0.0.1:8000 as deployed: gunicorn, the quick and training worker pools and beat
# (logs in var/log/); Ctrl-C stops them.
run: image assets
	bash scripts/run-platform.sh

# The production stack (docker/compose.yaml), built offline; needs DJANGO_SECRET_KEY and POSTGRES_PASSWORD.
compose: image assets
	bash scripts/compose.sh up

# ruff over the whole tree (pyproject.toml's excludes: the known-wrong cases, attack files, migrations),
# mypy over grader/ and reference_models/ (pyproject.toml's [tool.mypy]); make test runs it first.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Everything that needs neither Docker nor a training run or worker processes (markers in pyproject.toml),
# nor the browser and compose tests: the edit-and-check loop.
test-fast: venv redis
	$(PY) -m pytest -m "not docker and not slow" --ignore=tests/e2e --ignore=tests/deploy -q

bench: image
	$(PY) benchmarks/grading_latency.py

clean:
	rm -rf build var
