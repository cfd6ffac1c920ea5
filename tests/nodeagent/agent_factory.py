"""Make an AgentContext for handler tests: its own state directory and node id, the given device
roots, and a control-plane client pointing at an unused URL (device and brick handlers never call it)."""
import os
import uuid
from pathlib import Path

from nodeagent import handlers
from nodeagent.context import AgentContext
from nodeagent.controlplane_client import ControlPlaneClient
from nodeagent.state_files import AgentState

NOT_ROOT = os.geteuid() != 0


def agent(root: Path, roots: tuple[str, ...], name: str = "n1", address: str = "127.0.1.1") -> AgentContext:
    return AgentContext(node_id=str(uuid.uuid4()), node_name=name, address=address, secret="secret",
                        state=AgentState(root / name / "state"), client=ControlPlaneClient("http://127.0.0.1:9"),
                        device_roots=roots)


def add_device(ctx: AgentContext, path, kind: str = "directory", device_id: str | None = None) -> dict:
    spec = {"device_id": device_id or str(uuid.uuid4()), "path": str(path), "kind": kind}
    return handlers.handle(ctx, "ADD_DEVICE", spec)
