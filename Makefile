# Tairyo's everyday commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

# The demo: SQLite, tasks in-process, the Mackerel and mail simulators in the same process.
DEMO_ENV := DJANGO_DEBUG=true DATABASE_URL=sqlite:///$(CURDIR)/var/demo.sqlite3 \
	CELERY_TASK_ALWAYS_EAGER=true TAIRYO_ENV_FILE=/dev/null \
	TAIRYO_EMAIL_PROVIDER=mailgun MAILGUN_API_KEY=demo-mailgun-key \
	MAILGUN_SENDER_DOMAIN=demo.tairyo.test MAILGUN_API_URL=http://127.0.0.1:8025/v3 \
	MACKEREL_API_URL=http://127.0.0.1:8081

.PHONY: messages help demo test test-fast lint format typecheck services compose-check clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(INSTALLED)

demo: $(INSTALLED)  ## Serve the portal with demo data on http://127.0.0.1:8000 (SQLite, no servers)
	mkdir -p var
	$(DEMO_ENV) $(BIN)/python manage.py run_demo

test: $(INSTALLED) services lint  ## Lint, then the whole test suite on PostgreSQL and Redis
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-fast: $(INSTALLED) services  ## The suite without the slow (real-worker, browser, fault) tests
	$(BIN)/pytest -n 2 -m "not slow" $(PYTEST_ARGS)

lint: $(INSTALLED)  ## ruff lint and format check, migrations check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	TAIRYO_ENV_FILE=/dev/null $(BIN)/python manage.py makemigrations --check --dry-run -v 0

format: $(INSTALLED)  ## Fix what ruff can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(INSTALLED)  ## mypy --strict with the Django and DRF plugins
	$(BIN)/mypy .

services:  ## Start PostgreSQL and Redis if they are installed but down
	@scripts/ensure-services

# Each benchmark sets up its own database and servers, prints a table and writes bench/results/.
# Flags for one script: make bench INTAKE_ARGS="--seconds 60" SYNC_ARGS="--orgs 10"
# NOTIFY_ARGS="--quick" SEARCH_ARGS="--skip-pages". Fault injection during the storm is a target
# of its own: make bench-faults.
INTAKE_ARGS ?=
SYNC_ARGS ?=
NOTIFY_ARGS ?=
SEARCH_ARGS ?=

.PHONY: bench bench-faults
bench: $(INSTALLED) services  ## Benchmarks against design.md's targets (on loopback, a few min each; faults: make bench-faults)
	$(BIN)/python bench/intake.py $(INTAKE_ARGS)
	$(BIN)/python bench/sync.py $(SYNC_ARGS)
	$(BIN)/python bench/notify.py $(NOTIFY_ARGS)
	$(BIN)/python bench/search.py $(SEARCH_ARGS)
	$(BIN)/python bench/stages.py
	$(BIN)/python bench/report.py

# Each fault in a storm of its own on a private redis-server: FAULTS=redis-flush,web-restart for
# some only, FAULTS_ARGS= for design.md's 5,000-alert storm and the full 60 s windows.
FAULTS ?= all
FAULTS_ARGS ?= --quick
bench-faults: $(INSTALLED) services  ## Faults during the storm: lost 0, doubled 0, time to recover (~15 min)
	$(BIN)/python bench/notify.py --fault $(FAULTS) $(FAULTS_ARGS)

compose-check:  ## Validate docker-compose.yml with .env.example as its .env
	tmp=$$(mktemp -d) && cp docker-compose.yml $$tmp/ && cp .env.example $$tmp/.env && \
	(cd $$tmp && docker-compose config -q); status=$$?; rm -rf $$tmp; exit $$status

clean:  ## Remove the virtualenv and local databases
	rm -rf $(VENV) var/*.sqlite3 staticfiles

messages: $(INSTALLED)  ## Update the Japanese catalogue from the code, then compile it
	$(BIN)/python manage.py makemessages -l ja --no-obsolete --ignore=.venv --ignore=mackerel_sim --ignore=mail_sim --ignore=test-artifacts
	$(BIN)/python manage.py compilemessages -l ja --ignore=.venv
