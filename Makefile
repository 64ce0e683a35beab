# sanboot.iscsi developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON := python3
# Everything below runs the tools from .venv against the dependency collections in .collections.
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_NOCOLOR := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup test sanity lint units integration molecule docs demo benchmark bench build changelog clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: ## install everything the tests and the demo need (idempotent)
	@$(PYTHON) tools/setup.py

test: ## run every test layer and print a summary
	@tools/run-tests sanity lint units integration molecule docs

sanity: ## ansible-test sanity (all tests that run offline)
	@tools/ansible-test-tree sanity --python 3.11 --local --color no

lint: ## ansible-lint (production profile), plugin and role docs lint, changelog lint, execution environment check, PowerShell grammar
	ansible-lint --offline --profile production
	antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all .
	python tools/check_powershell.py
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	rm -rf .cache/ee-context && ansible-builder create -f meta/execution-environment.yml -c .cache/ee-context >/dev/null
	@echo "execution environment definition builds a context: .cache/ee-context"

units: ## unit tests (pytest)
	python -m pytest tests/unit -q

# Two workers, each taking whole files (their module fixtures start daemons once): the tests wait on daemons,
# QEMU and ansible-playbook much of the time, so two of them share two cores well (about 14 instead of 25 min).
INTEGRATION_WORKERS ?= 2

integration: ## integration tests: real daemons and clients, ansible-playbook end to end (INTEGRATION_WORKERS=2)
	python -m pytest tests/integration -q -p no:cacheprovider -n $(INTEGRATION_WORKERS) --dist loadfile --durations=15

molecule: ## every molecule scenario (collection and roles)
	@tools/run-molecule

docs: ## the documentation site (guide and reference) in docs/_build/html; fails on any warning or broken link
	@python tools/docs.py

demo: ## machines booting from LUNs the collection provisioned (KEEP=1 keeps the lab up)
	@KEEP=$(KEEP) tools/demo

benchmark: ## time goal: the two-machine demo under 3 minutes (BENCHMARK_LIMIT=seconds)
	@$(PYTHON) tools/benchmark.py

bench: ## fleet scale: N servers provisioned, re-run, verified, against the raw tools (BENCH_N="10 100 500"); writes docs/performance.md
	@$(PYTHON) tools/bench.py

build: ## build the collection tarball
	ansible-galaxy collection build --force .

changelog: ## release galaxy.yml's version: fragments into changelogs/changelog.yaml, then CHANGELOG.md from it
	antsibull-changelog release

clean: ## remove build and test output (keeps .venv and .collections)
	rm -rf .cache/ansible-test .cache/ee-context .cache/docs docs/_build tests/output sanboot-iscsi-*.tar.gz .ansible
