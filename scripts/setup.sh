#!/usr/bin/env bash
# Set up everything on a Debian machine, as root: GlusterFS, redis-server, a venv with the project.
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in glusterfs-server glusterfs-client redis-server attr; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The web UI's browser tests (Debian's chromium driven through chromedriver: no browser download)
# and the monitoring checks (promtool, and a real Prometheus scraping a test control plane).
extra=()
for pkg in chromium chromium-driver prometheus; do
  dpkg -s "$pkg" >/dev/null 2>&1 || extra+=("$pkg")
done
if [ "${#extra[@]}" -gt 0 ]; then
  echo "setup: installing ${extra[*]}"
  [ "${#need[@]}" -gt 0 ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
  # Only its binaries are wanted here: where the package just started a Prometheus service, stop it.
  if [[ " ${extra[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 \
      && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus || true
  fi
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
