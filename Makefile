# Two commands a newcomer needs (see README.md):
#   make demo   an embedded node with a demo consortium, API and pages on 127.0.0.1
#   make test   everything CI runs: ruff, mypy --strict, the whole pytest suite
# Benchmarks: make bench (core), make bench-cometbft, make bench-apps (the applications).
# Both install what they need first: a virtualenv with the pinned dependencies,
# and Debian's chromium for the browser tests.

PYTHON ?= python3
VENV   := .venv
# CometBFT for the multi-organisation engine: the newest v0.38 patch, built from the
# Go module proxy into .tools/bin (see docs/cometbft.md). SALUS_COMETBFT may name a
# binary instead; without either, the CometBFT tests skip with a loud message.
COMETBFT_VERSION := v0.38.26
TOOLS  := $(CURDIR)/.tools
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest bench bench-cometbft bench-apps install browser cometbft clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Salus needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/salus demo

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

cometbft:
	@if [ -n "$$SALUS_COMETBFT" ]; then echo "using CometBFT at $$SALUS_COMETBFT"; \
	elif [ -x $(TOOLS)/bin/cometbft ] && [ "$$($(TOOLS)/bin/cometbft version)" = "$(COMETBFT_VERSION:v%=%)" ]; then :; \
	elif command -v go >/dev/null 2>&1; then \
	  echo "building CometBFT $(COMETBFT_VERSION) into .tools/bin (go install)"; \
	  GOBIN=$(TOOLS)/bin go install github.com/cometbft/cometbft/cmd/cometbft@$(COMETBFT_VERSION); \
	else \
	  echo "*****************************************************************"; \
	  echo "* Go is not installed, so CometBFT $(COMETBFT_VERSION) cannot be built:"; \
	  echo "* the multi-node tests will be SKIPPED. Install Go and rerun, or set"; \
	  echo "* SALUS_COMETBFT=/path/to/cometbft ($(COMETBFT_VERSION))."; \
	  echo "*****************************************************************"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) browser cometbft
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/core.py

bench-cometbft: $(STAMP) cometbft
	$(BIN)/python bench/cometbft.py

# The applications' benchmarks (each prints one JSON object on its last line).
bench-apps: $(STAMP)
	$(BIN)/python bench/certificates.py
	$(BIN)/python bench/outbreak.py
	$(BIN)/python bench/mutual_aid.py

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache .hypothesis
