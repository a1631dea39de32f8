# Leaven: `make demo` runs it with a demo organization, `make test` runs the checks and tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo serve test check pytest bench browser-deps messages clean

$(BIN)/leaven: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

.env: | $(BIN)/leaven
	$(BIN)/leaven genenv > .env
	@echo "Wrote .env with new secrets (keep it private)."

## demo: install, migrate a SQLite database, load the demo organization, serve on :8000
demo: $(BIN)/leaven .env
	$(BIN)/leaven migrate --verbosity 0
	$(BIN)/leaven demo
	$(BIN)/leaven serve --no-migrate

## serve: serve what is there (no demo data)
serve: $(BIN)/leaven .env
	$(BIN)/leaven serve

## test: install, then ruff, mypy and the whole test suite (browser tests need Chromium)
test: $(BIN)/leaven browser-deps check pytest

check: $(BIN)/leaven
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	LEAVEN_TESTING=1 $(BIN)/mypy leaven bench

pytest: $(BIN)/leaven
	$(BIN)/pytest $(PYTEST_ARGS)

## browser-deps: Debian's Chromium for the browser tests (installed with apt-get when root)
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium: apt-get install chromium"; exit 1; fi; \
	fi

## bench: the benchmarks in bench/, one JSON line per figure
bench: $(BIN)/leaven
	$(BIN)/python -m bench all

## messages: refresh and compile the Spanish translation
messages: $(BIN)/leaven
	cd leaven && LEAVEN_TESTING=1 ../$(BIN)/python ../manage.py makemessages -l es --ignore=tests
	cd leaven && LEAVEN_TESTING=1 ../$(BIN)/python ../manage.py compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
