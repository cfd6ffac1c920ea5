"""Volume operations: one object per kind of request (create, start, stop, delete, expand and its
retry and abort, options), each with its precondition (`Operation.check`: the caller's role and
the state table's arrow), its `begin` (the in-progress state and the first step's brick tasks, sent
after the commit) and its `settle` (the next step, or a settled state with reasons). `registry`
holds them all and dispatches agents' results to them. How to add one: docs/architecture.md."""
from controlplane.services.volume_ops.create import CreateRequest, create
from controlplane.services.volume_ops.expand import ExpandRequest, abort, expand, retry
from controlplane.services.volume_ops.expand import plan as expand_plan
from controlplane.services.volume_ops.lifecycle import StartRequest, delete, start, stop
from controlplane.services.volume_ops.reconfigure import OptionsRequest, advance_waiting_waves, change

__all__ = ["CreateRequest", "ExpandRequest", "OptionsRequest", "StartRequest", "abort", "advance_waiting_waves",
           "change", "create", "delete", "expand", "expand_plan", "retry", "start", "stop"]
