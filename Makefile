# Two commands on a fresh machine with Python 3.11+ and git: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.ray-installed

.PHONY: demo test bench check lint docs clean agent-clis clean-agent-clis

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "maestro-tui needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,dev]'
	@touch $(STAMP)

# Ray (the optional `ray` extra) for its executor's tests and bench; the demo does without.
$(RAY_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[ray]'
	@touch $(RAY_STAMP)

# Quitting the demo mid-run (130) or leaving a merge for review (3) are its normal endings,
# already explained on screen: not a failure of make's.
demo: $(STAMP)
	$(VENV)/bin/maestro-tui demo || { code=$$?; [ $$code = 130 ] || [ $$code = 3 ] || exit $$code; }

# The real coding-agent CLIs (pinned, in the git-ignored .agents/) for the tests marked `cli`;
# a no-op once their stamps are there.
agent-clis:
	PYTHON=$(PYTHON) scripts/install-agent-clis

test: $(STAMP) $(RAY_STAMP) agent-clis
	$(PY) -m pytest -q

bench: $(STAMP) $(RAY_STAMP)
	$(PY) -m bench

lint: $(STAMP) $(RAY_STAMP)
	$(VENV)/bin/ruff format --check maestro_tui tests bench
	$(VENV)/bin/ruff check maestro_tui tests bench
	$(VENV)/bin/mypy

check: lint test

# The documentation site, offline (no plugin fetches anything), into the git-ignored site/.
# --strict: a broken link, a missing page or a bad generated part fails the build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) build *.egg-info

clean-agent-clis:
	rm -rf .agents
