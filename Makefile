# The project's verbs. CI calls them verbatim (.ci/run runs `make test`).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Written after a successful install; pip runs again only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed
# pytest worker processes (pytest-xdist): the suite spends much of its time waiting on
# servers and subprocesses, so two workers nearly halve it even on two cores.
TEST_WORKERS ?= 2
CHROMIUM := /usr/bin/chromium
ALERTMANAGER := /usr/bin/prometheus-alertmanager
PG_PROBE_HOST := $(or $(STEWARD_PG_HOST_PROBE),127.0.0.1)
PG_PROBE_PORT := $(or $(STEWARD_PG_PORT_PROBE),5432)

# Installs Debian packages: as root, else through sudo, else explains and fails.
define apt_install
if [[ $$(id -u) -eq 0 ]]; then sudo=; \
elif command -v sudo >/dev/null; then sudo=sudo; \
else echo "make: $(1) is needed but this user is not root and has no sudo;" \
	"install it with: apt-get install $(1)" >&2; exit 1; fi; \
echo "make: installing Debian package(s) $(1)"; \
$$sudo apt-get update -q; \
$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1)
endef

# Succeeds when a PostgreSQL server answers on the probe address.
define pg_answers
if command -v pg_isready >/dev/null; then \
	pg_isready -q -h $(PG_PROBE_HOST) -p $(PG_PROBE_PORT) -t 3; \
else \
	$(PY) -c 'import socket; socket.create_connection(("$(PG_PROBE_HOST)", $(PG_PROBE_PORT)), timeout=3).close()' 2>/dev/null; \
fi
endef

.PHONY: help install test test-deps demo lint fmt typecheck bench clean distclean

help:
	@echo "make install    create $(VENV) and install the project with its test extras"
	@echo "make test       ruff, then pytest against PostgreSQL and headless Chromium"
	@echo "make test-deps  install Debian chromium and prometheus-alertmanager, and PostgreSQL when none is reachable"
	@echo "make demo       seed example models and serve http://127.0.0.1:8080"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make fmt        ruff format and ruff check --fix"
	@echo "make typecheck  mypy src"
	@echo "make bench      run bench/registry/run.sh"
	@echo "make clean      remove caches and build outputs (distclean: also $(VENV))"

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "make: Python >= 3.11 is needed; $(PY) is $$($(PY) --version 2>&1)." \
			"Run: make install PY=python3.11" >&2; exit 1; }
	@[[ -x $(BIN)/python ]] || { echo "make: creating $(VENV)"; $(PY) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

test: install test-deps
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	scripts/with-postgres.sh $(BIN)/pytest -q -n $(TEST_WORKERS)

# Python's playwright cannot download its own browser here: the tests launch Debian's
# Chromium through executable_path. PostgreSQL: see scripts/with-postgres.sh.
test-deps:
	@[[ -x $(CHROMIUM) ]] || { $(call apt_install,chromium); }
	@[[ -x $(ALERTMANAGER) ]] || { $(call apt_install,prometheus-alertmanager); }
	@if [[ -n "$${STEWARD_TEST_PG_URL:-}" ]]; then \
		echo "make: tests use STEWARD_TEST_PG_URL"; \
	elif $(pg_answers); then \
		echo "make: tests use the PostgreSQL server on $(PG_PROBE_HOST):$(PG_PROBE_PORT)"; \
	elif compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then \
		echo "make: tests start a throwaway PostgreSQL server"; \
	else \
		$(call apt_install,postgresql); \
	fi

demo: install
	$(BIN)/steward demo

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

fmt: install
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

typecheck: install
	$(BIN)/mypy src

bench: install
	@if [[ -f bench/registry/run.sh ]]; then \
		bash bench/registry/run.sh; \
	else \
		echo "make: no benchmark yet (bench/registry/run.sh is missing)"; \
	fi

clean:
	rm -rf build dist .pytest_cache .ruff_cache .mypy_cache bench/results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
