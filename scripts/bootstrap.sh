# Sourced by the other scripts: make sure .venv (Python >= 3.12) and node_modules are ready.
# Installs only what is missing or changed, so repeated runs take seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local version
    for version in $(pyenv versions --bare 2>/dev/null | sort -rV); do
      case "$version" in
        3.1[2-9]*|3.[2-9][0-9]*)
          echo "$(pyenv root)/versions/$version/bin/python3"; return 0 ;;
      esac
    done
  fi
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PYTHON="$(find_python)" || {
    echo "AI Ready needs Python 3.12 or newer (the Microsoft 365 Agents SDK requires it)." >&2
    echo "Install it (e.g. 'pyenv install 3.12') and run this again." >&2
    exit 1
  }
  echo "==> creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi

stamp() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

PY_STAMP="$(stamp pyproject.toml)"
if [ "$(cat .venv/.aiready-stamp 2>/dev/null)" != "$PY_STAMP" ]; then
  echo "==> installing Python packages"
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
         .venv/bin/python -m pip install --quiet -e ".[dev]"; } > .venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    echo "pip install failed (log above, also in .venv/pip.log)" >&2
    exit 1
  fi
  echo "$PY_STAMP" > .venv/.aiready-stamp
fi

command -v node >/dev/null 2>&1 || { echo "AI Ready's dev tools need Node.js 20 or newer." >&2; exit 1; }
NODE_STAMP="$(stamp package.json package-lock.json)"
if [ ! -d node_modules ] || [ "$(cat node_modules/.aiready-stamp 2>/dev/null)" != "$NODE_STAMP" ]; then
  echo "==> installing Node packages (Azurite, Agents Playground, adaptivecards, manifest schemas)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$NODE_STAMP" > node_modules/.aiready-stamp
fi
