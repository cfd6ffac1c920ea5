"""What this agent's volfile server hands out: FUSE client volfiles of the cluster's volumes, built
from the local metadata copy (any node can serve any volume, control plane up or not)."""
from collections.abc import Callable

from contracts.volume_spec import VolumeSpec
from nodeagent.context import AgentContext
from volgen import client_volfile

SERVED_STATES = frozenset({"Created", "Starting", "Started", "StartFailed", "Stopping", "Stopped", "StopFailed",
                           "Expanding", "Reconfiguring", "ReconfigureFailed", "ExpandFailed"})


def client_volfile_lookup(ctx: AgentContext) -> Callable[[str], str | None]:
    def lookup(key: str) -> str | None:
        for entry in ctx.state.load_metadata().get("content", {}).get("volumes", []):
            spec = VolumeSpec.model_validate(entry["spec"])
            if spec.name == key and entry.get("state") in SERVED_STATES:
                return client_volfile(spec)
        return None

    return lookup
