#!/usr/bin/env bash
# Run the whole test suite. Installs what is missing; the tests start Azurite themselves.
# Extra arguments go to pytest (e.g. scripts/test.sh -k storage).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

if ! command -v chromium >/dev/null 2>&1 && [ -z "${AIREADY_SKIP_BROWSER_INSTALL:-}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium for the browser tests"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  fi
fi

echo "==> lint and types"
.venv/bin/ruff check .
.venv/bin/mypy server teams_app
.venv/bin/mypy --explicit-package-bases tests bench
echo "==> content and message catalogs check"
.venv/bin/python -m server content check
.venv/bin/python -m server messages check
echo "==> tests"
exec .venv/bin/python -m pytest "$@"
