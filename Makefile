# Mapping Workbench — `make run` serves the demo, `make test` runs the whole suite.
# Both start with `make install`, which is idempotent and only redoes what changed.

PYTHON ?= python3
VENV   := .venv
# Airflow 3 for the DAG tests only, in a virtualenv of its own: its pins do not resolve beside
# the app's. `make run` never builds it.
AIRFLOW_VENV := .venv-airflow
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install airflow run test lint format bench browser worker clean

install: $(VENV)/.installed static/vendor/.installed
	@mkdir -p var
	$(PY) manage.py migrate --no-input -v 0

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	@touch $@

airflow: $(AIRFLOW_VENV)/.installed

$(AIRFLOW_VENV)/.installed: requirements/airflow.txt requirements/airflow-constraints.txt
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install --quiet -r requirements/airflow.txt
	@touch $@

static/vendor/.installed: package.json package-lock.json scripts/vendor_assets.py
	@command -v npm >/dev/null || { echo "npm is needed to fetch the browser assets (htmx, Pico CSS)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) scripts/vendor_assets.py
	@touch $@

run: install
	$(PY) manage.py load_demo
	@echo "Serving the workbench at http://$(HOST):$(PORT)/ — log in with one of the demo users above."
	$(PY) manage.py runserver $(HOST):$(PORT)

# What the tests drive, from Debian's packages (Playwright's own browser download does not work
# here): Chromium for the browser tests, LibreOffice and poppler for the workbook's PDF check, and
# a Java runtime for Spark (pyspark runs the generated Spark SQL in local mode).
TEST_PACKAGES := chromium:chromium chromedriver:chromium-driver libreoffice:libreoffice-calc-nogui pdftotext:poppler-utils java:openjdk-17-jre-headless
browser:
	@missing=""; for pair in $(TEST_PACKAGES); do \
	  command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: not installed:$$missing — the tests that need them will not run"; fi; fi

test: install browser airflow
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The benchmarks run twice: on the embedded SQLite and on the PostgreSQL app database (the ETL
# benchmark loads its Mart on PostgreSQL either way). BENCH=name runs one module.
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/workbench
# Both databases run even when the first has a figure over budget; either one over fails.
bench: install
	env -u DATABASE_URL $(PY) bench/run.py $(BENCH); sqlite=$$?; \
	DATABASE_URL=$(BENCH_POSTGRES_URL) $(PY) bench/run.py $(BENCH); postgres=$$?; \
	test $$sqlite -eq 0 && test $$postgres -eq 0

worker: install
	$(VENV)/bin/celery -A workbench worker --loglevel=info

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) node_modules static/vendor var
