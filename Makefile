# records-bridge: the two commands that matter are `make demo` (run it locally) and
# `make test` (what CI runs). Nothing needs installing by hand: the targets below install
# what they need (moto and cfn-lint into local venvs, from PyPI).

SHELL := /bin/bash
PYTHON ?= python3
MOTO_VENV := .venv-moto
TOOLS_VENV := .venv-tools
# moto 5.1.22: later versions answer two S3 calls with XML the Rust SDK rejects.
MOTO_PIN := moto[server]==5.1.22
# cfn-lint 1.51.0 catches the circular-dependency class (E3004) that 1.58 misses.
CFN_LINT_PIN := cfn-lint==1.51.0

export MOTO_PYTHON := $(CURDIR)/$(MOTO_VENV)/bin/python

.PHONY: test demo bench lint fmt tools moto-venv tools-venv browser build-release clean-venvs

## test: the whole test suite (unit, moto + simulator integration, end to end)
test: moto-venv browser
	cargo test --workspace

## demo: the local stack (moto + OpenText simulator + the real functions), with samples
demo: moto-venv
	cargo build -p opentext-sim -p declare -p lifecycle-worker -p event-intake -p event-poller -p access-endpoint -p local-stack
	cargo run -q -p local-stack --bin records-local -- demo

## bench: measured figures (memory, wall time, start-up, artifact size)
# declare is built on its own so it has the features it ships with (built together with
# bench, Cargo would unify bench's features into it, e.g. hyper's server side).
bench: moto-venv
	cargo build --release -p declare
	cargo build --release -p bench
	cargo build --release -p opentext-sim
	cargo run --release -q -p bench --bin records-bench -- --sizes-mib 1,64,512 --runs 10 --wall-runs 3
	cargo run --release -q -p opentext-client --bin ot-upload-bench -- --sim-bin target/release/opentext-sim

## lint: template, formatting, clippy (as CI)
lint: tools-venv
	$(TOOLS_VENV)/bin/cfn-lint template.yaml
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

tools: moto-venv tools-venv browser

## browser: headless Chromium and chromedriver from Debian (P5's page is tested in a real
## browser); skipped when both are there. Needs root (or sudo) for apt-get.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  echo "chromium and chromedriver present"; \
	else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver; \
	fi

moto-venv: $(MOTO_VENV)/.installed
$(MOTO_VENV)/.installed:
	$(PYTHON) -m venv $(MOTO_VENV)
	$(MOTO_VENV)/bin/pip install -q "$(MOTO_PIN)"
	touch $@

tools-venv: $(TOOLS_VENV)/.installed
$(TOOLS_VENV)/.installed:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install -q "$(CFN_LINT_PIN)"
	touch $@

clean-venvs:
	rm -rf $(MOTO_VENV) $(TOOLS_VENV)
