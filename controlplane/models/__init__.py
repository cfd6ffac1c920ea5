"""Database tables. Every resource belongs to a cluster; ids are UUID strings."""
from controlplane.models.alerts import Alert, JobRun
from controlplane.models.clusters import Cluster, MetadataChange, MetadataSnapshot
from controlplane.models.devices import Device
from controlplane.models.drift import NodeReport
from controlplane.models.georep import GeoRepSession, GeoRepWorker
from controlplane.models.nodes import Node
from controlplane.models.quota import QuotaLimit
from controlplane.models.snapshots import Snapshot, SnapshotSchedule
from controlplane.models.tasks import Task
from controlplane.models.users import ApiToken, BootstrapClaim, Grant, LoginThrottle, User
from controlplane.models.volumes import Brick, Rebalance, Volume

__all__ = ["Alert", "ApiToken", "BootstrapClaim", "Brick", "Cluster", "Device", "GeoRepSession", "GeoRepWorker", "Grant",
           "JobRun", "LoginThrottle", "MetadataChange", "MetadataSnapshot", "Node", "NodeReport", "QuotaLimit", "Rebalance",
           "Snapshot", "SnapshotSchedule", "Task", "User", "Volume"]
