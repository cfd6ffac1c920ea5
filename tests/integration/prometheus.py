"""A real Prometheus (Debian's package) scraping a test control plane with the project's rules."""
import os
import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from controlplane.embedded_redis import free_port

RULES = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus" / "kadalu-rules.yml"


def require_prometheus() -> str:
    found = shutil.which("prometheus")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("prometheus is not installed: scripts/setup.sh installs Debian's package")
        pytest.skip("prometheus is not installed (scripts/setup.sh)")
    return found


def start(procs, root: Path, target_url: str, token: str) -> str:
    """Start Prometheus scraping `target_url` every second (rules evaluated every second too);
    returns its URL. `procs` (the harness's Processes) stops it with everything else."""
    binary = require_prometheus()
    root.mkdir(parents=True, exist_ok=True)
    (root / "token").write_text(token)
    shutil.copy(RULES, root / "kadalu-rules.yml")
    host = target_url.split("://", 1)[1]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["kadalu-rules.yml"],
        "scrape_configs": [{"job_name": "kadalu", "metrics_path": "/metrics",
                            "authorization": {"type": "Bearer", "credentials_file": str(root / "token")},
                            "static_configs": [{"targets": [host]}]}],
    }
    (root / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    procs.start("prometheus", [binary, f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'data'}",
                               f"--web.listen-address=127.0.0.1:{port}"], dict(os.environ))
    return f"http://127.0.0.1:{port}"


def query(url: str, expr: str) -> list[dict]:
    try:
        r = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5)
    except httpx.TransportError:
        return []
    return r.json()["data"]["result"] if r.status_code == 200 else []


def rules(url: str) -> list[dict]:
    try:
        groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    except (httpx.TransportError, KeyError, ValueError):
        return []
    return [r for g in groups for r in g["rules"]]
