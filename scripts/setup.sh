#!/usr/bin/env bash
# Set up everything on a Debian machine, as root: GlusterFS, redis-server, a venv with the project.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# btrfs-progs: snapshots of bricks on btrfs (nodeagent/snapshots/btrfs.py, tests/integration/test_snapshot_e2e.py).
for pkg in glusterfs-server glusterfs-client redis-server attr btrfs-progs; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The web UI's browser tests (Debian's chromium driven through chromedriver: no browser download)
# the monitoring checks (promtool, and a real Prometheus scraping a test control plane), and
# redis-sentinel for the high-availability test (tests/integration/test_ha.py), and sshd + rsync for
# geo-replication (tests/integration/test_georep_e2e.py runs its own sshd on a loopback address).
extra=()
for pkg in chromium chromium-driver prometheus redis-sentinel openssh-server rsync; do
  dpkg -s "$pkg" >/dev/null 2>&1 || extra+=("$pkg")
done
if [ "${#extra[@]}" -gt 0 ]; then
  echo "setup: installing ${extra[*]}"
  [ "${#need[@]}" -gt 0 ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
  # Only their binaries are wanted here: where a package just started its service, stop it.
  for pkg_svc in prometheus:prometheus redis-sentinel:redis-sentinel openssh-server:ssh; do
    pkg=${pkg_svc%%:*} svc=${pkg_svc#*:}
    if [[ " ${extra[*]} " == *" $pkg "* ]] && command -v systemctl >/dev/null 2>&1 \
        && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl disable --now "$svc" || true
    fi
  done
fi
# Kadalu replaces glusterd: where the package started it (systemd hosts), stop it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet glusterd 2>/dev/null; then
  systemctl disable --now glusterd || true
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]' 2>&1 | grep -v -e '^WARNING: Location' -e '^$' || true
.venv/bin/python -c "import controlplane, nodeagent, cli, volgen" 
echo "setup: ready (.venv/bin/kadalu, .venv/bin/kadalu-server, .venv/bin/kadalu-agent)"
