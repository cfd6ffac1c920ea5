"""The agent's state directory is made private at every start (issue #7 requirement 8): a real
`kadalu-agent` process started on a 0755 directory with a world-readable node.json."""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_agent_start_makes_its_state_dir_and_credentials_private(tmp_path):
    d = tmp_path / "agent"
    (d / "volfiles" / "gv").mkdir(parents=True)
    (d / "tasks").mkdir()
    (d / "run").mkdir()
    files = {"node.json": json.dumps({"node_id": "x", "node_secret": "s", "name": "someone-else"}),
             "metadata.json": "{}", "volfiles/gv/client.vol": "option password p", "tasks/t.json": "{}",
             "run/brick.pid": "1"}
    for name, text in files.items():
        (d / name).write_text(text)
        os.chmod(d / name, 0o644)
    for sub in (d, d / "volfiles", d / "volfiles" / "gv", d / "tasks", d / "run"):
        os.chmod(sub, 0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KADALU_")}
    env.update(PYTHONPATH=str(ROOT), KADALU_REGISTER_RETRY_SECONDS="0")
    # Nothing listens on port 9: registration fails, and the saved credentials name another node.
    run = subprocess.run([sys.executable, "-m", "nodeagent.main", "--state-dir", str(d), "--url", "http://127.0.0.1:9",
                          "--join-token", "t", "--name", "n1", "--address", "127.0.0.1"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert mode(d) == 0o700
    for name in ("node.json", "metadata.json", "volfiles/gv/client.vol", "tasks/t.json"):
        assert mode(d / name) == 0o600, name
    for sub in ("volfiles", "volfiles/gv", "tasks"):
        assert mode(d / sub) == 0o700, sub
    assert mode(d / "run" / "brick.pid") == 0o644  # not a credential: left as it was
