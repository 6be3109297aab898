# The two commands a newcomer runs: `make demo` and `make test`. Everything else is set up on the way.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export DJANGO_SETTINGS_MODULE := kizuna.settings

.PHONY: demo serve test test-sqlite test-postgres lint bench messages static setup clean

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python) && echo "using $$PY" && $$PY -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) messages static

messages: $(STAMP)
	@cd kizuna && ../$(BIN)/django-admin compilemessages --verbosity 0

static: $(STAMP)
	@$(BIN)/kizuna collectstatic --noinput --verbosity 0

demo: setup
	$(BIN)/kizuna demo

serve: setup
	$(BIN)/kizuna serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy kizuna

test-sqlite: setup
	DATABASE_URL= $(BIN)/pytest

# PostgreSQL run: required in CI, skipped with a clear message on a machine without a server.
test-postgres: setup
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser"; \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL at $(PG_URL) is not reachable (required in CI)"; exit 1; \
	else echo "SKIPPED: PostgreSQL at $(PG_URL) not reachable; set PG_URL or start it to run the suite on PostgreSQL"; fi

test: lint test-sqlite test-postgres

bench: setup
	$(BIN)/kizuna bench match
	$(BIN)/kizuna bench triage
	OMP_NUM_THREADS=$$(nproc) $(BIN)/kizuna bench triage --skip-fast

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
