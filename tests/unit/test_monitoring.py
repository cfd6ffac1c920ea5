"""The monitoring files in monitoring/: the Prometheus rules pass `promtool check rules` and their
unit tests (`promtool test rules`), the Prometheus config passes `promtool check config`, the
Grafana dashboards are what build_dashboards.py writes, and every PromQL expression in the rules
and the dashboards uses only metrics the control plane exports (and parses as PromQL)."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest

from controlplane.db import make_engine
from controlplane.metrics import Metrics
from controlplane.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
PROM = ROOT / "monitoring" / "prometheus"
GRAFANA = ROOT / "monitoring" / "grafana"
METRIC = re.compile(r"\b(kadalu_[a-z0-9_]+)")
PROMETHEUS_OWN = {"up"}  # made by Prometheus for every scrape target


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed: scripts/setup.sh installs Debian's prometheus package")
        pytest.skip("promtool is not installed (scripts/setup.sh)")
    return found


def run(*argv: str, cwd: Path) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{' '.join(argv)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def exported_names(tmp_path) -> set[str]:
    """Sample names /metrics can answer, from the families of a fresh control plane's registry."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = make_engine(url)
    text = generate_latest(Metrics(engine).registry).decode()
    engine.dispose()
    names = set()
    for kind_line in re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.M):
        name, kind = kind_line.groups()
        name = name.removesuffix("_total") if kind == "counter" else name
        suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
                    "summary": ("_sum", "_count", "_created", "")}.get(kind, ("",))
        names.update(name + s for s in suffixes)
    return names


def rule_expressions() -> list[str]:
    doc = yaml.safe_load((PROM / "kadalu-rules.yml").read_text())
    return [r["expr"] for g in doc["groups"] for r in g["rules"]]


def dashboard_expressions() -> dict[str, list[str]]:
    out = {}
    for f in sorted((GRAFANA / "dashboards").glob("*.json")):
        board = json.loads(f.read_text())
        exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
        exprs += [v["query"]["query"] for v in board["templating"]["list"]]
        out[f.name] = exprs
    return out


def test_rules_pass_promtool_check_and_their_unit_tests():
    tool = promtool()
    assert "SUCCESS: 12 rules found" in run(tool, "check", "rules", "kadalu-rules.yml", cwd=PROM)
    assert "SUCCESS" in run(tool, "test", "rules", "kadalu-rules.test.yml", cwd=PROM)


def test_prometheus_config_passes_promtool_check(tmp_path):
    tool = promtool()
    config = (PROM / "prometheus.yml").read_text().replace("/run/secrets/kadalu_metrics_token", str(tmp_path / "token"))
    (tmp_path / "token").write_text("secret\n")
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(PROM / "kadalu-rules.yml", tmp_path)
    run(tool, "check", "config", "prometheus.yml", cwd=tmp_path)


def test_dashboards_are_the_builders_output():
    spec = importlib.util.spec_from_file_location("build_dashboards", GRAFANA / "build_dashboards.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert set(builder.DASHBOARDS) == {f.name for f in (GRAFANA / "dashboards").glob("*.json")}
    for name, board in builder.DASHBOARDS.items():
        assert (GRAFANA / "dashboards" / name).read_text() == builder.render(board), (
            f"{name} differs from build_dashboards.py: run `python monitoring/grafana/build_dashboards.py`")
    assert {b["uid"] for b in builder.DASHBOARDS.values()} == {"kadalu-overview", "kadalu-volume", "kadalu-node"}


def test_every_expression_uses_only_metrics_the_server_exports(tmp_path):
    exported = exported_names(tmp_path)
    used = {"kadalu-rules.yml": rule_expressions(), **dashboard_expressions()}
    for where, exprs in used.items():
        for expr in exprs:
            unknown = {m for m in METRIC.findall(expr) if m not in exported}
            assert not unknown, f"{where}: {expr!r} uses metrics /metrics does not export: {sorted(unknown)}"
            bare = set(re.findall(r"(?<![\w\"])([a-z_]+)\s*[{\[]", expr)) - {"by", "without", "on", "ignoring"}
            assert bare <= exported | PROMETHEUS_OWN, f"{where}: {expr!r} selects unknown series {sorted(bare - exported)}"
    # the alert rules cover what the issue asks for
    rules = yaml.safe_load((PROM / "kadalu-rules.yml").read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {"KadaluNodeUnreachable", "KadaluBrickDown", "KadaluVolumeDegraded",
                                           "KadaluVolumeDown", "KadaluDeviceNearlyFull", "KadaluVolumeNearlyFull",
                                           "KadaluTasksFailing", "KadaluHealthCheckNotRunning"}


def test_dashboard_expressions_parse_as_promql(tmp_path):
    """promtool parses them as recording rules (Grafana variables replaced by a value)."""
    tool = promtool()
    rules = []
    for name, exprs in dashboard_expressions().items():
        for n, expr in enumerate(exprs):
            if expr.startswith("label_values("):  # Grafana's own function: check its selector
                expr = expr[len("label_values("):].rsplit(",", 1)[0]
            rules.append({"record": f"check:{name.split('.')[0].replace('-', '_')}:{n}",
                          "expr": expr.replace("$cluster", "c1").replace("$volume", "v1").replace("$node", "n1")})
    (tmp_path / "dash.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    run(tool, "check", "rules", "dash.yml", cwd=tmp_path)


def test_compose_provisions_prometheus_and_grafana_with_these_files():
    single = yaml.safe_load((ROOT / "compose" / "single" / "compose.yaml").read_text())
    svcs = single["services"]
    prom_mounts = " ".join(svcs["prometheus"]["volumes"])
    assert "monitoring/prometheus/prometheus.yml" in prom_mounts and "monitoring/prometheus/kadalu-rules.yml" in prom_mounts
    assert svcs["prometheus"]["secrets"] == ["kadalu_metrics_token"]
    assert single["secrets"]["kadalu_metrics_token"] == {"environment": "KADALU_METRICS_TOKEN"}
    grafana_mounts = " ".join(svcs["grafana"]["volumes"])
    assert "monitoring/grafana/provisioning" in grafana_mounts and "monitoring/grafana/dashboards" in grafana_mounts
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "kadalu.yml").read_text())["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/kadalu"
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"][0]
    assert source["uid"] == "kadalu-prometheus" and source["url"] == "http://prometheus:9090"
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    assert config["scrape_configs"][0]["authorization"]["credentials_file"] == "/run/secrets/kadalu_metrics_token"
