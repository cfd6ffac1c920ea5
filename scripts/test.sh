#!/usr/bin/env bash
# Set up and run every test: unit, API (SQLite and PostgreSQL), CLI, and integration tests with
# real redis-server, control-plane processes, node agents, glusterfsd bricks and FUSE mounts.
# Needs PostgreSQL on 127.0.0.1:5432 (KADALU_TEST_PG_URL) and Redis on 127.0.0.1:6379 (KADALU_TEST_REDIS_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Lint and types first: seconds, and a failure here says more than one deep in the suite.
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/pytest -q "$@"
