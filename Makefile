# Journeymap: `make run` installs and starts the app on the demo workspace; `make test` installs what the
# checks need and runs every one of them.
SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 8501
PIP := $(PYTHON) -m pip install --disable-pip-version-check

.PHONY: run install dev test lint benchmarks

# pip's own progress, without the long list of packages that are already there.
install:
	@echo "Installing Journeymap and its Python packages (the first time takes a few minutes)..."
	@set -o pipefail; $(PIP) -e . | { grep -v '^Requirement already satisfied' || true; }

run: install
	@echo "Starting Journeymap on the demo workspace: open http://localhost:$(PORT) (Ctrl+C stops it)."
	$(PYTHON) -m streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

# Development tools, the browser for end-to-end tests and a PostgreSQL server for the store tests.
dev:
	@echo "Installing the test tools (ruff, mypy, pytest, Playwright)..."
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
			echo "Installing Debian's chromium, postgresql and poppler-utils..."; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver postgresql poppler-utils >/dev/null; \
		fi; \
	else echo "Not root: install the Debian packages chromium, postgresql and poppler-utils with your package manager (their tests are skipped until then)."; fi
	@set -o pipefail; $(PIP) -e ".[dev]" | { grep -v '^Requirement already satisfied' || true; }

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

# Everything but the browser on one worker per core, then the browser tests alone, one after the other
# (a real server and Chromium, timed by what a person waits for, need the machine to themselves).
test: dev lint
	$(PYTHON) -m pytest -q -n auto -m "not browser"
	$(PYTHON) -m pytest -q -m browser tests/browser

benchmarks:
	$(PYTHON) benchmarks/overlay.py --events 1000000
	$(PYTHON) benchmarks/overlay.py --events 10000000
	$(PYTHON) benchmarks/editor_page.py
