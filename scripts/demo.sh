#!/usr/bin/env bash
# The demo: sets everything up, starts a control plane with embedded defaults (SQLite + a private
# redis-server), three node agents on 127.0.1.1-3 (each may use devices under .demo/exports only),
# registers a device on each, then creates, starts and mounts a replica-3 volume, writes a file to
# it, and prints the status.
#   scripts/demo.sh          run it (processes keep running; state in .demo/)
#   scripts/demo.sh stop     stop everything the demo started (by pid) and unmount
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD/.demo"
PORT="${KADALU_DEMO_PORT:-8080}"
URL="http://127.0.0.1:$PORT"
export KADALU_CONFIG_DIR="$ROOT/cli" KADALU_URL="$URL"
KADALU=.venv/bin/kadalu

stop() {
  if mountpoint -q "$ROOT/mnt/gvol1" 2>/dev/null; then umount "$ROOT/mnt/gvol1" || umount -l "$ROOT/mnt/gvol1"; fi
  # Bricks outlive agents by design: stop the volume through the control plane while it runs.
  if [ -f "$ROOT/pids/server.pid" ] && curl -fs "$URL/api/v1/health" >/dev/null 2>&1; then
    $KADALU volume stop -c mycluster gvol1 --yes --wait --timeout 60 >/dev/null 2>&1 || true
  fi
  for pidfile in "$ROOT"/pids/agent-*.pid "$ROOT"/pids/server.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$pidfile"
  done
  echo "demo stopped (state kept in $ROOT; scripts/demo.sh starts it again)"
}

if [ "${1:-}" = "stop" ]; then stop; exit 0; fi
if [ -d "$ROOT/pids" ] && ls "$ROOT"/pids/*.pid >/dev/null 2>&1; then stop; fi

scripts/setup.sh
mkdir -p "$ROOT/pids" "$ROOT/logs"

echo "== starting the control plane (kadalu-server up) on $URL"
KADALU_STATE_DIR="$ROOT/server" KADALU_API_PORT="$PORT" KADALU_HEARTBEAT_INTERVAL=2 \
  nohup .venv/bin/kadalu-server up >"$ROOT/logs/server.log" 2>&1 &
echo $! >"$ROOT/pids/server.pid"
for _ in $(seq 100); do curl -fs "$URL/api/v1/health" >/dev/null 2>&1 && break; sleep 0.3; done
curl -fs "$URL/api/v1/health" >/dev/null || { echo "server did not start: $ROOT/logs/server.log"; tail -20 "$ROOT/logs/server.log"; exit 1; }

PASSWORD_FILE="$ROOT/admin.password"
[ -f "$PASSWORD_FILE" ] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PASSWORD_FILE")  # ~24 characters: the policy wants 12 or more
KADALU_PASSWORD="$(cat "$PASSWORD_FILE")" $KADALU login --username admin
if ! $KADALU cluster status mycluster >/dev/null 2>&1; then $KADALU cluster add mycluster >/dev/null; fi
TOKEN=$($KADALU cluster rotate-token mycluster | grep -o 'kjt_[A-Za-z0-9_-]*' | head -n 1)

echo "== starting three node agents on 127.0.1.1-3"
for i in 1 2 3; do
  mkdir -p "$ROOT/exports/node$i"
  KADALU_JOIN_TOKEN="$TOKEN" nohup .venv/bin/kadalu-agent --url "$URL" --name "node$i" --address "127.0.1.$i" \
    --state-dir "$ROOT/agents/node$i" --device-root "$ROOT/exports" >"$ROOT/logs/agent-node$i.log" 2>&1 &
  echo $! >"$ROOT/pids/agent-node$i.pid"
done
for _ in $(seq 100); do
  online=$($KADALU node list -c mycluster --json | .venv/bin/python -c 'import json,sys; print(sum(n["state"]=="Online" for n in json.load(sys.stdin)["data"]))')
  [ "$online" = 3 ] && break; sleep 0.3
done

echo "== registering a device on each node"
for i in 1 2 3; do
  if ! $KADALU device list -c mycluster --node "node$i" --json | grep -c "\"$ROOT/exports/node$i\"" >/dev/null; then
    $KADALU device add -c mycluster "node$i" --path "$ROOT/exports/node$i" --wait
  fi
done

echo "== creating, starting and mounting replica-3 volume gvol1"
if ! $KADALU volume info -c mycluster gvol1 >/dev/null 2>&1; then
  $KADALU volume create -c mycluster gvol1 --replica 3 \
    "node1:$ROOT/exports/node1/gvol1" "node2:$ROOT/exports/node2/gvol1" "node3:$ROOT/exports/node3/gvol1" --wait
fi
state=$($KADALU volume info -c mycluster gvol1 --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["state"])')
if [ "$state" != "Started" ]; then $KADALU volume start -c mycluster gvol1 --wait; fi
mkdir -p "$ROOT/mnt/gvol1"
mountpoint -q "$ROOT/mnt/gvol1" || $KADALU mount -c mycluster gvol1 "$ROOT/mnt/gvol1"
echo "hello from kadalu $(date -u +%FT%TZ)" >"$ROOT/mnt/gvol1/hello.txt"
echo "wrote $ROOT/mnt/gvol1/hello.txt; on the bricks:"
ls -l "$ROOT"/exports/node*/gvol1/hello.txt
$KADALU volume status -c mycluster gvol1

echo "== status"
$KADALU cluster status mycluster
$KADALU node list -c mycluster
$KADALU device list -c mycluster
echo
echo "Demo running."
echo "  Dashboard: $URL/  (user admin, password in $PASSWORD_FILE)"
echo "  API docs:  $URL/docs   CLI: KADALU_CONFIG_DIR=$ROOT/cli $KADALU ...   Stop: scripts/demo.sh stop"
