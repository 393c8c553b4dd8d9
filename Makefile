# flux2-mock: every target installs what it needs first (a stamp-file virtualenv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test test-fast lint bench soak contract report fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	@echo "flux2-mock is installed in $(VENV)/ (not on PATH). While it serves, in another shell:"
	@echo "  make report                     # conformance report of your client (exit 1 if not)"
	@echo "  make contract BASE_URL=http://127.0.0.1:8000 API_KEY=flux2-mock-key"
	@echo "  $(BIN)/flux2-mock --help       # or: . $(BIN)/activate, then flux2-mock ..."
	@echo
	$(BIN)/flux2-mock serve $(ARGS)

# The conformance report of the mock `make run` serves (BASE_URL= for another one).
report: $(STAMP)
	$(BIN)/flux2-mock report --base-url "$(or $(BASE_URL),http://127.0.0.1:8000)" $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

# The pure and in-process tests: no served processes, no browser, nothing slow.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e and not slow" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mock_server flux2_spec contract_tests tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

# Steady load on flux2-mock serve: worker RSS and store size. `make soak DURATION=60` is quicker.
DURATION ?= 600
soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak --seconds $(DURATION) $(ARGS)
# Schemathesis against the served /openapi.json of a real server: at least 10,000 cases,
# every check on, callbacks limited to loopback (tests/openapi/fuzzing.py).
fuzz: $(STAMP)
	$(BIN)/python -m tests.openapi.fuzzing --max-examples 300 --min-cases 10000 $(ARGS)

contract: $(STAMP)
	@test -n "$(BASE_URL)" || (echo "usage: make contract BASE_URL=http://... API_KEY=..." && exit 2)
	$(BIN)/python -m contract_tests --base-url "$(BASE_URL)" --api-key "$(API_KEY)" $(ARGS)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
