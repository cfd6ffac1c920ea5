"""Task kinds and the word each shows in each phase.

A task is stored with a phase (queued, running, done, failed); the word a user sees comes from
this one table, so START_BRICK reads QUEUED -> STARTING -> STARTED (or FAILED).
"""
from enum import StrEnum


class Phase(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


TERMINAL_PHASES = frozenset({Phase.DONE, Phase.FAILED})


class TaskKind(StrEnum):
    ADD_DEVICE = "ADD_DEVICE"
    REMOVE_DEVICE = "REMOVE_DEVICE"
    CREATE_BRICK = "CREATE_BRICK"
    START_BRICK = "START_BRICK"
    STOP_BRICK = "STOP_BRICK"
    DELETE_BRICK = "DELETE_BRICK"
    RESTART_BRICK = "RESTART_BRICK"
    RECONFIGURE_BRICK = "RECONFIGURE_BRICK"
    START_REBALANCE = "START_REBALANCE"
    STOP_REBALANCE = "STOP_REBALANCE"
    REPAIR_BRICK = "REPAIR_BRICK"
    QUOTA_LIMIT = "QUOTA_LIMIT"
    GEOREP_KEYGEN = "GEOREP_KEYGEN"
    GEOREP_PREPARE_REMOTE = "GEOREP_PREPARE_REMOTE"
    GEOREP_CLEANUP_REMOTE = "GEOREP_CLEANUP_REMOTE"
    GEOREP_START = "GEOREP_START"
    GEOREP_STOP = "GEOREP_STOP"
    GEOREP_PAUSE = "GEOREP_PAUSE"
    GEOREP_RESUME = "GEOREP_RESUME"
    GEOREP_DELETE = "GEOREP_DELETE"
    # snapshots (contracts/snapshot_specs.py)
    SNAPSHOT_PROBE = "SNAPSHOT_PROBE"
    SNAPSHOT_BARRIER = "SNAPSHOT_BARRIER"
    SNAPSHOT_TAKE = "SNAPSHOT_TAKE"
    SNAPSHOT_REMOVE = "SNAPSHOT_REMOVE"
    SNAPSHOT_RESTORE = "SNAPSHOT_RESTORE"
    SNAPSHOT_CLONE = "SNAPSHOT_CLONE"


# kind -> (running word, done word)
_WORDS: dict[TaskKind, tuple[str, str]] = {
    TaskKind.ADD_DEVICE: ("ADDING", "ADDED"),
    TaskKind.REMOVE_DEVICE: ("REMOVING", "REMOVED"),
    TaskKind.CREATE_BRICK: ("CREATING", "CREATED"),
    TaskKind.START_BRICK: ("STARTING", "STARTED"),
    TaskKind.STOP_BRICK: ("STOPPING", "STOPPED"),
    TaskKind.DELETE_BRICK: ("DELETING", "DELETED"),
    TaskKind.RESTART_BRICK: ("RESTARTING", "RESTARTED"),
    TaskKind.RECONFIGURE_BRICK: ("RECONFIGURING", "RECONFIGURED"),
    TaskKind.START_REBALANCE: ("STARTING", "STARTED"),
    TaskKind.STOP_REBALANCE: ("STOPPING", "STOPPED"),
    TaskKind.REPAIR_BRICK: ("REPAIRING", "REPAIRED"),
    TaskKind.QUOTA_LIMIT: ("APPLYING", "APPLIED"),
    TaskKind.GEOREP_KEYGEN: ("GENERATING", "GENERATED"),
    TaskKind.GEOREP_PREPARE_REMOTE: ("PREPARING", "PREPARED"),
    TaskKind.GEOREP_CLEANUP_REMOTE: ("CLEANING", "CLEANED"),
    TaskKind.GEOREP_START: ("STARTING", "STARTED"),
    TaskKind.GEOREP_STOP: ("STOPPING", "STOPPED"),
    TaskKind.GEOREP_PAUSE: ("PAUSING", "PAUSED"),
    TaskKind.GEOREP_RESUME: ("RESUMING", "RESUMED"),
    TaskKind.GEOREP_DELETE: ("DELETING", "DELETED"),
    TaskKind.SNAPSHOT_PROBE: ("PROBING", "PROBED"),
    TaskKind.SNAPSHOT_BARRIER: ("SETTING_BARRIER", "BARRIER_SET"),
    TaskKind.SNAPSHOT_TAKE: ("SNAPSHOTTING", "SNAPSHOTTED"),
    TaskKind.SNAPSHOT_REMOVE: ("REMOVING", "REMOVED"),
    TaskKind.SNAPSHOT_RESTORE: ("RESTORING", "RESTORED"),
    TaskKind.SNAPSHOT_CLONE: ("CLONING", "CLONED"),
}


def state_word(kind: str, phase: str) -> str:
    if phase == Phase.QUEUED:
        return "QUEUED"
    if phase == Phase.FAILED:
        return "FAILED"
    running, done = _WORDS[TaskKind(kind)]
    return running if phase == Phase.RUNNING else done
