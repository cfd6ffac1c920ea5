"""Geo-replication benchmark (issue #10): sync lag for small files and throughput for a large one,
next to a plain rsync of the same data over the same ssh (the floor).

    flock /tmp/kadalu-integration.lock .venv/bin/python -m bench.georep [--files 50] [--big-mb 200] [--json out.json]

Real processes on this machine, as in tests/integration/test_georep_e2e.py: a control plane, a
master replica 3 volume and a remote distribute volume in two clusters, one sshd per remote node,
a geo-replication session Started. Lag: one small file written on the master mount at a time, the
time until it reads back identical on the remote mount (polled every 20 ms). Throughput: one file
of --big-mb written, time until identical on the remote. Floor: `rsync` of the same files from the
master mount to the remote mount over ssh to the same remote sshd, with a key of its own."""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.integration.georep_setup import REMOTES, cleanup, mount, two_clusters
from tests.integration.harness import Cluster, wait_for
from tests.integration.test_volumes_e2e import kadalu


def _same(a: Path, b: Path) -> bool:
    try:
        return b.stat().st_size == a.stat().st_size and hashlib.sha256(b.read_bytes()).digest() == \
            hashlib.sha256(a.read_bytes()).digest()
    except OSError:
        return False


def _until_same(a: Path, b: Path, timeout: float) -> float:
    t0 = time.perf_counter()
    while not _same(a, b):
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"{b} did not match {a} within {timeout}s")
        time.sleep(0.02)
    return time.perf_counter() - t0


def _rsync(src: list[Path], dest: str, key: Path, port: int) -> float:
    ssh = f"ssh -p {port} -i {key} -oBatchMode=yes -oStrictHostKeyChecking=no -oUserKnownHostsFile=/dev/null"
    t0 = time.perf_counter()
    subprocess.run(["rsync", "-a", "--inplace", "-e", ssh, *map(str, src), dest], check=True, capture_output=True)
    return time.perf_counter() - t0


def run(files: int, big_mb: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="kadalu-bench-georep-"))
    cp = Cluster(root)
    mounts: list = []
    try:
        cp.start()
        cp.login_admin()
        key = root / "bench_key"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (root / "bench_keys").write_text(Path(f"{key}.pub").read_text())
        port = two_clusters(cp, extra_keys=str(root / "bench_keys"))
        out = kadalu(cp, "geo-replication", "create", "-c", "master", "--remote-user", "root", "--remote-cluster",
                     "remote", "--ssh-port", str(port), "mv", "rv", "--wait", "--timeout", "120").stdout
        session_id = out.split("ID: ")[1].split()[0]
        master, remote = mount(cp, "master", "mv", mounts), mount(cp, "remote", "rv", mounts)
        (master / "warm").write_text("warm")
        wait_for(lambda: _same(master / "warm", remote / "warm"), 300, "the first crawl", cp.procs.tails)

        lags = []
        for i in range(files):
            (master / f"small{i}").write_bytes(os.urandom(4096))
            lags.append(_until_same(master / f"small{i}", remote / f"small{i}", 300))
        big = master / "big"
        t0 = time.perf_counter()
        with open(big, "wb") as f:
            for _ in range(big_mb):
                f.write(os.urandom(1 << 20))
        written = time.perf_counter() - t0
        synced = _until_same(big, remote / "big", 900)

        floor_dir = remote / "floor"
        floor_dir.mkdir(exist_ok=True)
        dest = f"root@{REMOTES['r1']}:{floor_dir}/"
        small_floor = [_rsync([master / f"small{i}"], dest, key, port) for i in range(files)]
        big_floor = _rsync([big], dest, key, port)
        kadalu(cp, "geo-replication", "stop", session_id, "-c", "master", "--wait")
        kadalu(cp, "geo-replication", "delete", session_id, "-c", "master", "--wait")
        return {
            "small_files": files, "small_lag_median_s": statistics.median(lags), "small_lag_max_s": max(lags),
            "small_rsync_median_s": statistics.median(small_floor),
            "big_mb": big_mb, "big_write_s": written, "big_sync_after_write_s": synced,
            "big_georep_mb_per_s": big_mb / (written + synced), "big_rsync_s": big_floor,
            "big_rsync_mb_per_s": big_mb / big_floor,
        }
    finally:
        cleanup(cp, mounts)
        cp.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--big-mb", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = run(args.files, args.big_mb)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
