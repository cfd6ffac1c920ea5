"""Writes the Grafana dashboards (dashboards/*.json) from this one description: cluster overview,
volume detail, node detail. Run `python monitoring/grafana/build_dashboards.py` after changing it;
tests/unit/test_monitoring.py checks that the committed files are its output and that every
PromQL expression uses only metrics the control plane exports."""
import json
from pathlib import Path

DS = {"type": "prometheus", "uid": "kadalu-prometheus"}  # provisioning/datasources/prometheus.yml
OUT = Path(__file__).parent / "dashboards"
C = 'cluster="$cluster"'


def var(name: str, query: str, label: str) -> dict:
    return {"name": name, "label": label, "type": "query", "datasource": DS, "refresh": 2, "sort": 1,
            "query": {"query": query, "refId": f"{name}-values"}, "definition": query}


def panel(kind: str, title: str, x: int, y: int, w: int, h: int, *targets: tuple[str, str], unit: str = "short",
          **extra) -> dict:
    p = {"type": kind, "title": title, "datasource": DS, "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
         "targets": [{"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(65 + i)}
                     for i, (expr, legend) in enumerate(targets)]}
    p.update(extra)
    return p


def dashboard(uid: str, title: str, variables: list[dict], panels: list[dict]) -> dict:
    for n, p in enumerate(panels, start=1):
        p["id"] = n
    return {"uid": uid, "title": title, "tags": ["kadalu"], "schemaVersion": 39, "version": 1, "editable": True,
            "refresh": "30s", "time": {"from": "now-6h", "to": "now"}, "timezone": "utc",
            "templating": {"list": variables}, "panels": panels,
            "links": [{"title": "Kadalu", "type": "dashboards", "tags": ["kadalu"], "asDropdown": True}]}


CLUSTER = var("cluster", "label_values(kadalu_nodes, cluster)", "Cluster")
VOLUME = var("volume", f"label_values(kadalu_volume_state{{{C}}}, volume)", "Volume")
NODE = var("node", f"label_values(kadalu_node_online{{{C}}}, node)", "Node")
V = f'{C},volume="$volume"'
N = f'{C},node="$node"'

OVERVIEW = dashboard("kadalu-overview", "Kadalu: cluster overview", [CLUSTER], [
    panel("stat", "Nodes Online", 0, 0, 4, 4, (f'sum(kadalu_nodes{{{C},state="Online"}})', "")),
    panel("stat", "Nodes Unreachable", 4, 0, 4, 4, (f'sum(kadalu_nodes{{{C},state="Unreachable"}})', "")),
    panel("stat", "Volumes by health", 8, 0, 8, 4, (f"sum by (health) (kadalu_volume_health{{{C}}})", "{{health}}")),
    panel("stat", "Open alerts", 16, 0, 4, 4, (f"sum(kadalu_alerts_firing{{{C}}}) or vector(0)", "")),
    panel("stat", "Bricks offline", 20, 0, 4, 4, (f'sum(kadalu_bricks{{{C},online="0"}}) or vector(0)', "")),
    panel("bargauge", "Volume used", 0, 4, 12, 8,
          (f"kadalu_volume_used_bytes{{{C}}} / kadalu_volume_capacity_bytes{{{C}}}", "{{volume}}"), unit="percentunit"),
    panel("timeseries", "Volume free space", 12, 4, 12, 8, (f"kadalu_volume_free_bytes{{{C}}}", "{{volume}}"), unit="bytes"),
    panel("timeseries", "Heartbeat age", 0, 12, 12, 8, (f"kadalu_node_heartbeat_age_seconds{{{C}}}", "{{node}}"), unit="s"),
    panel("table", "Open alerts by kind", 12, 12, 12, 8, (f"sum by (kind, severity) (kadalu_alerts_firing{{{C}}})", ""),
          options={"showHeader": True}),
    panel("timeseries", "Tasks waiting and running", 0, 20, 8, 8, ("sum by (phase) (kadalu_tasks)", "{{phase}}")),
    panel("timeseries", "Tasks finished in the window", 8, 20, 8, 8,
          ("sum by (phase) (kadalu_tasks_finished_window)", "{{phase}}")),
    panel("timeseries", "Task duration (90th percentile, window)", 16, 20, 8, 8,
          ('kadalu_task_duration_window_seconds{quantile="0.9"}', "{{kind}}"), unit="s"),
    panel("timeseries", "API requests", 0, 28, 12, 8,
          ("sum by (status) (rate(kadalu_api_requests_total[5m]))", "{{status}}"), unit="reqps"),
    panel("timeseries", "API latency (90th percentile)", 12, 28, 12, 8,
          ("histogram_quantile(0.9, sum by (le) (rate(kadalu_api_request_duration_seconds_bucket[5m])))", "p90"), unit="s"),
    panel("stat", "Health check last ran", 0, 36, 8, 4,
          ('time() - kadalu_job_last_run_timestamp_seconds{name="health_check"}', "seconds ago"), unit="s"),
])

VOLUME_DETAIL = dashboard("kadalu-volume", "Kadalu: volume detail", [CLUSTER, VOLUME], [
    panel("stat", "State", 0, 0, 6, 4, (f"kadalu_volume_state{{{V}}}", "{{state}}"), options={"textMode": "name"}),
    panel("stat", "Health", 6, 0, 6, 4, (f"kadalu_volume_health{{{V}}}", "{{health}}"), options={"textMode": "name"}),
    panel("stat", "Capacity", 12, 0, 4, 4, (f"kadalu_volume_capacity_bytes{{{V}}}", ""), unit="bytes"),
    panel("stat", "Used", 16, 0, 4, 4, (f"kadalu_volume_used_bytes{{{V}}}", ""), unit="bytes"),
    panel("stat", "Free", 20, 0, 4, 4, (f"kadalu_volume_free_bytes{{{V}}}", ""), unit="bytes"),
    panel("timeseries", "Used and free", 0, 4, 12, 8, (f"kadalu_volume_used_bytes{{{V}}}", "used"),
          (f"kadalu_volume_free_bytes{{{V}}}", "free"), unit="bytes"),
    panel("table", "Bricks online", 12, 4, 12, 8, (f"kadalu_brick_online{{{V}}}", "{{node}}:{{brick}}"),
          options={"showHeader": True}),
    panel("timeseries", "Entries waiting for self-heal", 0, 12, 12, 8,
          (f"kadalu_brick_heal_pending{{{V}}}", "{{node}}:{{brick}}")),
    panel("timeseries", "Rebalance files", 12, 12, 12, 8,
          (f"sum by (result) (kadalu_rebalance_files{{{V}}})", "{{result}}")),
    panel("timeseries", "Rebalance bytes moved", 0, 20, 12, 8, (f"sum(kadalu_rebalance_bytes_moved{{{V}}})", "moved"),
          unit="bytes"),
    panel("stat", "Nodes rebalancing", 12, 20, 12, 8, (f"sum(kadalu_rebalance_running{{{V}}}) or vector(0)", "")),
])

NODE_DETAIL = dashboard("kadalu-node", "Kadalu: node detail", [CLUSTER, NODE], [
    panel("stat", "Online", 0, 0, 6, 4, (f"kadalu_node_online{{{N}}}", ""),
          fieldConfig={"defaults": {"mappings": [{"type": "value", "options": {
              "0": {"text": "Unreachable", "color": "red"}, "1": {"text": "Online", "color": "green"}}}]},
                       "overrides": []}),
    panel("stat", "Heartbeat age", 6, 0, 6, 4, (f"kadalu_node_heartbeat_age_seconds{{{N}}}", ""), unit="s"),
    panel("stat", "Bricks offline", 12, 0, 6, 4, (f"count(kadalu_brick_online{{{N}}} == 0) or vector(0)", "")),
    panel("stat", "Entries waiting for self-heal", 18, 0, 6, 4, (f"sum(kadalu_brick_heal_pending{{{N}}}) or vector(0)", "")),
    panel("timeseries", "Heartbeat age", 0, 4, 12, 8, (f"kadalu_node_heartbeat_age_seconds{{{N}}}", "{{node}}"), unit="s"),
    panel("timeseries", "Device free space", 12, 4, 12, 8, (f"kadalu_device_free_bytes{{{N}}}", "{{device}}"), unit="bytes"),
    panel("bargauge", "Device used", 0, 12, 12, 8,
          (f"1 - kadalu_device_free_bytes{{{N}}} / kadalu_device_size_bytes{{{N}}}", "{{device}}"), unit="percentunit"),
    panel("table", "Bricks on this node", 12, 12, 12, 8, (f"kadalu_brick_online{{{N}}}", "{{volume}} {{brick}}"),
          options={"showHeader": True}),
])

DASHBOARDS = {"kadalu-overview.json": OVERVIEW, "kadalu-volume.json": VOLUME_DETAIL, "kadalu-node.json": NODE_DETAIL}


def render(board: dict) -> str:
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, board in DASHBOARDS.items():
        (OUT / name).write_text(render(board))
        print(f"wrote {OUT / name}")
