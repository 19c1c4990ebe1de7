#!/usr/bin/env bash
# Run AI Ready locally: Azurite, the bot server (local-dev mode, no credentials), the
# continuous-learning worker and the Microsoft 365 Agents Playground to chat with it.
# Ctrl-C stops everything.
#
#   ./scripts/dev.sh                   # real time
#   ./scripts/dev.sh --fast-clock      # a week passes in a minute (reminders, reviews, challenges)
#   ./scripts/dev.sh --fast-clock 1440 # a day passes in a minute
#
# Ports: AIREADY_PORT (bot, 3978), PLAYGROUND_PORT (56150), AZURITE_BLOB_PORT (10000),
# AZURITE_QUEUE_PORT (10001), AZURITE_TABLE_PORT (10002).
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# Job control: background services get their own process groups and keep SIGINT, so Ctrl-C
# reaches this script alone and it stops each service by its PID (Azurite saves on SIGINT).
set -m

SPEED=1
case "${1:-}" in
  --fast-clock) SPEED="${2:-10080}" ;;
  "") ;;
  *) echo "usage: $0 [--fast-clock [speed]]" >&2; exit 2 ;;
esac
if ! [[ "$SPEED" =~ ^[0-9]+$ ]] || [ "$SPEED" -lt 1 ]; then
  echo "the clock speed must be a whole number >= 1, got '$SPEED'" >&2; exit 2
fi

BOT_PORT="${AIREADY_PORT:-3978}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-56150}"
BLOB_PORT="${AZURITE_BLOB_PORT:-10000}"
QUEUE_PORT="${AZURITE_QUEUE_PORT:-10001}"
TABLE_PORT="${AZURITE_TABLE_PORT:-10002}"
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

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_free() {
  local port="$1" name="$2" variable="$3"
  if port_open "$port"; then
    echo "port $port ($name) is already in use: stop what uses it, or set $variable" >&2
    exit 1
  fi
}

wait_for_port() {
  local port="$1" name="$2" pid="$3"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then echo "$name exited while starting" >&2; exit 1; fi
    if port_open "$port"; then return 0; fi
    sleep 0.2
  done
  echo "$name did not start on port $port" >&2; exit 1
}

require_free "$BLOB_PORT" "Azurite blob" AZURITE_BLOB_PORT
require_free "$QUEUE_PORT" "Azurite queue" AZURITE_QUEUE_PORT
require_free "$TABLE_PORT" "Azurite table" AZURITE_TABLE_PORT
require_free "$BOT_PORT" "the bot" AIREADY_PORT
require_free "$PLAYGROUND_PORT" "the Agents Playground" PLAYGROUND_PORT

echo "==> starting Azurite (data in .azurite/)"
( cd "$AZURITE_DIR" && exec "$ROOT/node_modules/.bin/azurite" --silent --disableTelemetry \
    --skipApiVersionCheck --location "$AZURITE_DIR" --blobHost 127.0.0.1 --queueHost 127.0.0.1 \
    --tableHost 127.0.0.1 --blobPort "$BLOB_PORT" --queuePort "$QUEUE_PORT" \
    --tablePort "$TABLE_PORT" ) &
PIDS+=($!)
wait_for_port "$TABLE_PORT" Azurite "${PIDS[-1]}"
wait_for_port "$QUEUE_PORT" Azurite "${PIDS[-1]}"

# Azurite's well-known development account (public, documented by Microsoft).
ACCOUNT=devstoreaccount1
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# The Agents Playground's default user (Alex Wilber) is the tabs' demo user.
export AIREADY_ENV=development AIREADY_DEV_ALLOW_ANONYMOUS=true AIREADY_HOST=127.0.0.1
export AIREADY_PORT="$BOT_PORT"
export AIREADY_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$ACCOUNT;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$BLOB_PORT/$ACCOUNT;QueueEndpoint=http://127.0.0.1:$QUEUE_PORT/$ACCOUNT;TableEndpoint=http://127.0.0.1:$TABLE_PORT/$ACCOUNT;"
export AIREADY_DEV_DEMO_USER="00000000-0000-0000-0000-0000000000001/00000000-0000-0000-0000-0000000000020"
# The engine runs in a worker process of its own, as in production; with --fast-clock both
# processes share one fast clock (same speed, same starting instant).
export AIREADY_ENGINE_IN_WEB=false AIREADY_DEV_CLOCK_SPEED="$SPEED"
AIREADY_DEV_CLOCK_EPOCH="$(date +%s)"
export AIREADY_DEV_CLOCK_EPOCH

echo "==> writing the demo team (made-up figures for the team tab)"
.venv/bin/python -m server demo seed

echo "==> starting the AI Ready bot on http://127.0.0.1:$BOT_PORT (local-dev mode)"
.venv/bin/python -m server &
PIDS+=($!)
wait_for_port "$BOT_PORT" "The bot" "${PIDS[-1]}"

echo "==> starting the continuous-learning worker (clock speed ${SPEED}x)"
.venv/bin/python -m server worker &
PIDS+=($!)

echo "==> starting the Microsoft 365 Agents Playground"
TEAMSAPPTESTER_BROWSER=none "$ROOT/node_modules/.bin/agentsplayground" \
  -e "http://127.0.0.1:$BOT_PORT/api/messages" -c msteams -p "$PLAYGROUND_PORT" \
  --disable-telemetry >/dev/null &
PIDS+=($!)
wait_for_port "$PLAYGROUND_PORT" "The Agents Playground" "${PIDS[-1]}"

cat <<MSG

  AI Ready is running.
  Chat with it:   http://localhost:$PLAYGROUND_PORT   (type "start" or "help")
  My learning:    http://127.0.0.1:$BOT_PORT/tabs/my-learning   (add ?theme=dark or ?theme=contrast)
  Team view:      http://127.0.0.1:$BOT_PORT/tabs/team
  Bot endpoint:   http://127.0.0.1:$BOT_PORT/api/messages
  Health:         http://127.0.0.1:$BOT_PORT/healthz
  Deliveries:     .venv/bin/python -m server deliveries   (what the worker sent)
  Clock:          ${SPEED}x real time$( [ "$SPEED" -gt 1 ] && echo " (reminders, reviews and challenges arrive within minutes)")
  Press Ctrl-C to stop.

MSG
wait -n "${PIDS[@]}"
