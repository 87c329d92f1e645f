# Common tasks. `make help` lists them.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: help run install up down status walkthrough bench test test-unit test-integration test-web lint format typecheck schemas wheels

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: ## install every package of the workspace into .venv (uv, one lock) and test tools
	@deploy/bootstrap-python
	@deploy/bootstrap-tools

run: install ## THE MAIN JOB: stack, services, an audited fine-tune, review, seal, export, verify
	@$(PY) deploy/demo.py

up: ## the stack alone: install, start the local stack (Kafka, PostgreSQL, MinIO) and prove it works
	@deploy/stack up

down: ## stop the local stack (data kept)
	@deploy/stack down

status: ## health of each stack component
	@deploy/stack status

walkthrough: up ## the walkthrough seed's code against the stack (tiny model): events to Kafka
	@eval "$$(deploy/stack env)" && COGNIFY_WORKSPACE_ID=$${COGNIFY_WORKSPACE_ID:-ws-demo} \
	  COGNIFY_API_KEY=$${COGNIFY_API_KEY:-cgk_demo} $(PY) examples/walkthrough.py

bench: up ## benchmarks (bench/*.py), each printing its figures and ratios
	@uv sync --group bench --quiet
	@eval "$$(deploy/stack env)" && for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done
	@uv sync --quiet

test: install up lint typecheck test-web ## everything CI runs: stack up, lint, types, all tests
	@eval "$$(deploy/stack env)" && $(PY) -m pytest

test-unit: install ## unit tests only (no servers)
	@$(PY) -m pytest tests/unit

test-integration: install up ## integration tests against the real stack
	@eval "$$(deploy/stack env)" && $(PY) -m pytest tests/integration tests/deploy

test-web: install ## the dashboard web app: ESLint, tsc --noEmit, Vitest unit tests
	@cd services/dashboard/web && npm run --silent lint && npx --no-install tsc --noEmit && npx --no-install vitest run

lint: install ## ruff lint and format check
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: install ## ruff format and autofix
	@.venv/bin/ruff format . && .venv/bin/ruff check --fix .

typecheck: install ## mypy --strict over libs, services, bench, examples and tests
	@.venv/bin/mypy libs/*/src services/*/src bench examples tests

schemas: install ## regenerate docs/events/*.json from libs/events
	@$(PY) -m cognify_events.schema docs/events

wheels: ## the SDK's wheels and the two libraries it needs, into dist/ (README: install the SDK)
	@rm -rf dist && for p in cognify-events cognify-hashing cognify-sdk; do \
	  uv build --wheel --package $$p -o dist --quiet || exit 1; done
	@cd dist && sha256sum *.whl > SHA256SUMS && cat SHA256SUMS
