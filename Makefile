# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app app
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: run serve test install translations lint e2e clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Compile the translation catalogues (.po -> .mo); uncompiled catalogues show English.
translations: $(STAMP)
	$(PY) -m babel.messages.frontend compile -d translations --statistics

run: translations
	$(FLASK) db upgrade
	$(FLASK) cdt topics seed
	$(FLASK) cdt indicators seed
	$(FLASK) cdt demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Production mode: gunicorn with deploy/gunicorn.conf.py, reading DATABASE_URL, REDIS_URL,
# SECRET_KEY (and CDT_HTTPS, CDT_BIND, WEB_CONCURRENCY) from the environment; it refuses to
# start without a real SECRET_KEY and a Redis. See README, "Running it for a province".
serve: export CDT_ENV = production
serve: translations
	$(FLASK) db upgrade
	$(FLASK) cdt topics seed
	$(FLASK) cdt indicators seed
	$(VENV)/bin/gunicorn --config deploy/gunicorn.conf.py app:app

# Browser tests (tests/e2e) drive Debian's Chromium; without it they are skipped, and said so.
CHROMIUM ?= /usr/bin/chromium

test: translations
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "== browser tests: Chromium found at $(CHROMIUM), tests/e2e run with the suite"; \
	else \
		echo "== browser tests SKIPPED: $(CHROMIUM) is missing (apt-get install chromium); the rest of the suite runs"; \
	fi
	CDT_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the same suite on PostgreSQL ($$TEST_DATABASE_URL)"; \
		CDT_TEST_POSTGRES=1 $(PY) -m pytest -q -m "not e2e"; \
	else \
		echo "== PostgreSQL run skipped: TEST_DATABASE_URL is not set"; \
	fi

# Only the browser tests (screenshots in test-artifacts/screenshots/).
e2e: translations
	CDT_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q tests/e2e

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance
