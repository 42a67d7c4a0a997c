# A newcomer needs two targets: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8765

.PHONY: run test lint typecheck format migrate install install-dev clean engines engines-stop demo

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	PORT=$(PORT) PY=$(PY) bin/run

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint typecheck
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf var/celery var/advisor.sqlite3 .pytest_cache .ruff_cache

# Real llama.cpp and vLLM (CPU) on loopback for demos and the `engines` tests; installs into a
# cache outside the clone (ADVISOR_ENGINES_CACHE) on first use. See docs/engines.md.
engines:
	engines/install.sh
	engines/start.sh

engines-stop:
	engines/stop.sh

# Start the engines, sweep both through the load tester, print the comparison and the verdict.
demo:
	engines/demo.sh
