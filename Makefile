# mensi_sim: `make demo` runs the MenSI pilot scenario, `make test` runs the tests.
# Both create the virtual environment .venv first (with a Python >= 3.12 found by
# scripts/find-python; set PYTHON=/path/to/python3.12 to choose one); `make test` also
# installs what the browser tests need (`make browser`). CI runs `make test` (.ci/run).

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv bytecode browser demo test lint clean

# Recreate .venv when it is missing or its Python is older than 3.12.
VENV_OK := $(shell $(PY) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && echo yes)
ifneq ($(VENV_OK),yes)
.PHONY: $(STAMP)
endif

venv: $(STAMP)

# (Re)install the package and its test tools when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@if [ "$(VENV_OK)" != yes ]; then \
	    python=$$(sh scripts/find-python) || exit 1; \
	    rm -rf $(VENV); \
	    echo "creating $(VENV) with $$python"; \
	    "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

# The package's bytecode, compiled ahead (only what changed since): pip does not compile an
# editable install, and where PYTHONDONTWRITEBYTECODE is set (as on CI machines) Python
# would compile every module it imports at each start of mensi-sim, of each test's
# subprocess and of each benchmark (0.1-0.2 s CPU a start). Python still checks each
# file's source against it, so a stale file is never used.
bytecode: $(STAMP)
	@$(PY) -m compileall -q mensi_sim benchmarks

demo: $(STAMP) bytecode
	$(VENV)/bin/mensi-sim run scenarios/mensi_pilot.toml --replications 10
	@echo "The results folder is the one printed above after \"results:\" (plot: adoption_cost.png)."

# Debian's chromium and Solara's browser files for the browser tests, when missing (a quick
# check when present; installing chromium needs root or sudo: scripts/install-chromium).
browser: $(STAMP)
	@bash scripts/install-chromium $(PY)

test: $(STAMP) bytecode browser
	$(PY) -m pytest -q -m "not benchmark" -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check mensi_sim tests benchmarks
	$(VENV)/bin/ruff format --check mensi_sim tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
