# The README's two commands are `make run` and `make test`; everything they
# need (Debian packages, the virtualenv, pinned Python packages) comes from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
SPID_VENV ?= .venv-spid
PY := $(VENV)/bin/python
APT_PACKAGES := xmlsec1 chromium chromium-driver nginx wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps run test pytest lint format typecheck qa bench worker beat serve load

setup: system-deps $(VENV)/.installed $(SPID_VENV)/.installed tests/browser/node_modules/.installed

# axe-core for the browser tests' accessibility check (pinned in package-lock.json).
tests/browser/node_modules/.installed: tests/browser/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the accessibility checks will be skipped"; fi

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: requirements.txt
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

# spid-sp-test (run by the SAML tests) pins old libraries: its own virtualenv.
$(SPID_VENV)/.installed: requirements-spid.txt
	@[ -x $(SPID_VENV)/bin/python ] || $(PYTHON) -m venv $(SPID_VENV)
	$(SPID_VENV)/bin/python -m pip install -q -r requirements-spid.txt
	@touch $@

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup
	$(PY) manage.py runserver 127.0.0.1:8000

# Lint, type-check, then the test suite against the real PostgreSQL and Redis.
test: setup lint typecheck pytest

pytest: setup
	@$(PY) scripts/check_services.py
	$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: setup
	$(VENV)/bin/mypy

qa: lint typecheck pytest

bench: setup
	@$(PY) scripts/check_services.py
	$(PY) -m bench

# A worker with the beat scheduler in it (-B): run exactly one such worker;
# more workers without beat: `celery -A sso_site worker`, or `make beat` alone.
worker: setup
	@mkdir -p var
	$(VENV)/bin/celery -A sso_site worker -B -l info -s $${CELERY_BEAT_SCHEDULE_FILE:-var/celerybeat-schedule}

beat: setup
	@mkdir -p var
	$(VENV)/bin/celery -A sso_site beat -l info -s $${CELERY_BEAT_SCHEDULE_FILE:-var/celerybeat-schedule}

# Production serving: nginx (buffering, timeouts, size limits) in front of
# SERVE_INSTANCES gunicorn instances; environment as in README "Deployment".
serve: setup
	@mkdir -p var
	DB_STATEMENT_TIMEOUT_MS=0 DB_CLIENT_TIMEOUT=0 $(PY) manage.py migrate --noinput
	$(PY) deploy/serve.py

# Load figures on the production setup: 8 clients for 30 s per endpoint.
load: setup
	@$(PY) scripts/check_services.py
	$(PY) -m bench.load
