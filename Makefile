# Everyday commands. `make run` and `make test` each set everything up on a fresh clone.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The settings default to production (DEBUG off); the everyday commands here are development.
export DEBUG ?= true

.PHONY: install run serve test lint format migrations-check bench bench-search clean worker beat

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# pages: the NHS design system from the npm registry (pinned in package-lock.json), its
# compiled CSS, JS and images copied into static/vendor/nhsuk/ (git-ignored) for whitenoise.
# The CSS is adjusted to fit a self-only Content-Security-Policy: image URLs made relative,
# the @font-face rules (fonts on a third-party host) and source-map comments dropped.
NHSUK := node_modules/nhsuk-frontend/dist/nhsuk
VENDOR := static/vendor/nhsuk

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

$(VENDOR)/nhsuk-frontend.min.css: node_modules/.package-lock.json
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	cp -R $(NHSUK)/assets $(VENDOR)/assets
	sed -e 's|//# sourceMappingURL=.*$$||' $(NHSUK)/nhsuk-frontend.min.js > $(VENDOR)/nhsuk-frontend.min.js
	sed -E -e 's/@font-face\{[^}]*\}//g' -e 's|url\(/assets/|url(assets/|g' \
	  -e 's|/\*# sourceMappingURL=[^*]*\*/||' $(NHSUK)/nhsuk-frontend.min.css > $@

install: $(STAMP) $(VENDOR)/nhsuk-frontend.min.css

# Set up and serve the embedded default: SQLite, the delivery loop, London demo data, and the
# demo partner's webhook receiver (manage.py demo_receiver).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(MAKE) --no-print-directory serve

# PORT reaches the settings too: without SITE_URL, links in emails and webhooks point here,
# and the demo webhook receiver listens on PORT+1 (DEMO_RECEIVER_PORT).
export PORT
serve:
	@$(PY) manage.py run_deliveries & loop=$$!; \
	$(PY) manage.py demo_receiver & receiver=$$!; \
	trap 'kill $$loop $$receiver 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

# The production Celery processes, run exactly as the Procfile's lines (and the README) say.
worker beat: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" sh -c "exec $$(sed -n 's/^$@: //p' Procfile)"

# The whole suite, with its ten slowest steps listed so the loop stays fast on purpose.
# PYTEST_ARGS adds to the run, e.g. PYTEST_ARGS='-m "not e2e"' or PYTEST_ARGS=--durations=50.
# TEST_PROCESSES: pytest-xdist workers (each with its own test database), handed tests in
# the suite's order so every worker runs its database tests before its transactional ones
# (--dist load; a whole-file split lets a flush wipe the migrations' rows under a later
# file). TEST_PROCESSES=0 runs in this one process, as the chaos suite must.
TEST_PROCESSES ?= 2
test: install
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist load --durations=10 $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: install
	$(PY) manage.py makemigrations --check --dry-run

# Every benchmark on PostgreSQL and Redis, then one table of each figure beside its target.
# DATABASE_URL names a database of your own: each benchmark uses <name>_search (and
# <name>_search_500k), <name>_referrals and <name>_export. BENCH_REDIS_URL is flushed.
# BENCH_ARGS, e.g. BENCH_ARGS='--only search --search-sizes 50000'.
bench: install
	$(PY) bench/run.py $(BENCH_ARGS)

bench-search: install
	$(PY) bench/search.py

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles node_modules static/vendor
