# Everyday commands. `make help` lists them. Run them inside your virtual
# environment (python -m venv .venv && . .venv/bin/activate), or pass PYTHON=...
PYTHON ?= python3
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.DEFAULT_GOAL := help
.PHONY: help install run test test-pg browser lint format \
	i18n-extract i18n-update i18n-compile i18n-check bench

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## install the app in editable mode with the test and dev tools
	$(PYTHON) -m pip install -e '.[dev]'

run: ## serve the app on http://127.0.0.1:5000 (SQLite in instance/)
	crm serve

test: ## run the test suite on SQLite
	$(PYTHON) -m pytest

test-pg: ## run the test suite on PostgreSQL (PG_TEST_URL=...)
	CRM_TEST_DATABASE_URL='$(PG_TEST_URL)' $(PYTHON) -m pytest

browser: ## run only the browser tests (needs Debian's chromium)
	$(PYTHON) -m pytest -m browser tests/browser

lint: ## check formatting and lint rules (ruff)
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m ruff check .

format: ## reformat the code and apply safe lint fixes (ruff)
	$(PYTHON) -m ruff format .
	$(PYTHON) -m ruff check --fix .

i18n-extract: ## extract translatable strings into translations/messages.pot
	$(PYTHON) tools/i18n.py extract

i18n-update: ## extract, then update the ar/en catalogs and compile them
	$(PYTHON) tools/i18n.py update

i18n-compile: ## compile the .po catalogs into .mo
	$(PYTHON) tools/i18n.py compile

i18n-check: ## fail on a stale .pot/.mo or a missing, fuzzy or broken Arabic translation
	$(PYTHON) tools/i18n.py check

bench: ## run the benchmarks (python -m bench)
	@if [ -d bench ]; then $(PYTHON) -m bench; else echo "no bench/ directory yet"; exit 1; fi
