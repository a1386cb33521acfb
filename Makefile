# Journeymap: `make run` installs and starts the app on the demo workspace; `make test` runs every check.
PYTHON ?= python3
PORT ?= 8501

.PHONY: run install dev test lint benchmarks

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e .

run: install
	$(PYTHON) -m streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

# Development tools, the browser for end-to-end tests and a PostgreSQL server for the store tests.
dev:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver postgresql poppler-utils >/dev/null; \
	else echo "Install Debian packages chromium, postgresql and poppler-utils with your package manager."; fi
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e ".[dev]"

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

test: lint
	$(PYTHON) -m pytest -q

benchmarks:
	$(PYTHON) benchmarks/overlay.py --events 1000000
	$(PYTHON) benchmarks/overlay.py --events 10000000
	$(PYTHON) benchmarks/editor_page.py
