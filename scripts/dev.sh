#!/usr/bin/env bash
# Run AI Ready locally: Azurite, the bot server (local-dev mode, no credentials) and the
# Microsoft 365 Agents Playground to chat with it. Ctrl-C stops everything.
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# Job control: background services get their own process groups and keep SIGINT, so Ctrl-C
# reaches this script alone and it stops each service by its PID (Azurite saves on SIGINT).
set -m

BOT_PORT="${AIREADY_PORT:-3978}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-56150}"
AZURITE_DIR="$ROOT/.azurite"
mkdir -p "$AZURITE_DIR"
PIDS=()

stop_all() {
  trap - EXIT INT TERM
  echo; echo "==> stopping"
  local pid
  for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT INT TERM

wait_for_port() {
  local port="$1" name="$2"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "$name did not start on port $port" >&2; exit 1
}

echo "==> starting Azurite (data in .azurite/)"
( cd "$AZURITE_DIR" && exec "$ROOT/node_modules/.bin/azurite" --silent --disableTelemetry \
    --skipApiVersionCheck --location "$AZURITE_DIR" --blobHost 127.0.0.1 --queueHost 127.0.0.1 \
    --tableHost 127.0.0.1 ) &
PIDS+=($!)
wait_for_port 10002 Azurite

# The Agents Playground's default user (Alex Wilber) is the tabs' demo user.
export AIREADY_ENV=development AIREADY_DEV_ALLOW_ANONYMOUS=true AIREADY_HOST=127.0.0.1
export AIREADY_PORT="$BOT_PORT" AIREADY_STORAGE_CONNECTION_STRING="UseDevelopmentStorage=true"
export AIREADY_DEV_DEMO_USER="00000000-0000-0000-0000-0000000000001/00000000-0000-0000-0000-0000000000020"

echo "==> writing the demo team (made-up figures for the team tab)"
.venv/bin/python -m server demo seed

echo "==> starting the AI Ready bot on http://127.0.0.1:$BOT_PORT (local-dev mode)"
.venv/bin/python -m server &
PIDS+=($!)
wait_for_port "$BOT_PORT" "The bot"

echo "==> starting the Microsoft 365 Agents Playground"
TEAMSAPPTESTER_BROWSER=none "$ROOT/node_modules/.bin/agentsplayground" \
  -e "http://127.0.0.1:$BOT_PORT/api/messages" -c msteams -p "$PLAYGROUND_PORT" \
  --disable-telemetry >/dev/null &
PIDS+=($!)
wait_for_port "$PLAYGROUND_PORT" "The Agents Playground"

cat <<MSG

  AI Ready is running.
  Chat with it:   http://localhost:$PLAYGROUND_PORT   (type "start" or "help")
  My learning:    http://127.0.0.1:$BOT_PORT/tabs/my-learning   (add ?theme=dark or ?theme=contrast)
  Team view:      http://127.0.0.1:$BOT_PORT/tabs/team
  Bot endpoint:   http://127.0.0.1:$BOT_PORT/api/messages
  Health:         http://127.0.0.1:$BOT_PORT/healthz
  Press Ctrl-C to stop.

MSG
wait -n "${PIDS[@]}"
