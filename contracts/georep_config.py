"""Which gsyncd config keys a user may change, and what each accepts.

gsyncd's own template (/etc/glusterfs/gsyncd.conf, from geo-replication/gsyncd.conf.in) marks
some keys `configurable=false`, but `gsyncd config-set` does not enforce it: the control plane
does, with this table. Of the keys gsyncd calls configurable, the ones that name a program, a
directory, ssh or rsync arguments, or the Active/Passive mechanism are kadalu's to set (the agent
runs gsyncd as root with them: a user value there would run any program on every master node);
they are refused with MANAGED's reason. Both sides import this: the control plane validates a
config-set, the agent refuses a spec whose config holds anything else."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Key:
    kind: str  # "bool" | "int" | "choice" | "text"
    default: str
    help: str
    low: int = 0
    high: int = 2**31 - 1
    choices: tuple[str, ...] = ()


_LEVELS = ("ERROR", "INFO", "WARNING", "DEBUG")

CONFIGURABLE: dict[str, Key] = {
    "access-mount": Key("bool", "false", "keep the master mount visible (debugging)"),
    "changelog-batch-size": Key("int", "727040", "bytes of changelogs processed per batch", 1, 2**30),
    "changelog-log-level": Key("choice", "INFO", "changelog log level", choices=_LEVELS),
    "change-detector": Key("choice", "changelog", "how changes are found", choices=("changelog", "xsync")),
    "change-interval": Key("int", "5", "seconds between changelog rollovers processed", 1, 3600),
    "checkpoint": Key("int", "0", "unix time; set with `kadalu geo-replication checkpoint`", 0, 2**40),
    "cli-log-level": Key("choice", "INFO", "CLI log level", choices=_LEVELS),
    "connection-timeout": Key("int", "60", "seconds for mounts", 1, 3600),
    "gfid-conflict-resolution": Key("bool", "true", "fix gfid conflicts on the remote automatically"),
    "gluster-log-level": Key("choice", "INFO", "master mount log level", choices=_LEVELS),
    "ignore-deletes": Key("bool", "false", "do not sync deletes to the remote"),
    "log-level": Key("choice", "INFO", "gsyncd log level", choices=_LEVELS),
    "log-rsync-performance": Key("bool", "false", "log rsync statistics"),
    "max-rsync-retries": Key("int", "10", "rsync retries per batch", 1, 1000),
    "replica-failover-interval": Key("int", "1", "seconds before a Passive worker may turn Active", 1, 3600),
    "rsync-opt-existing": Key("bool", "true", "rsync --existing for data syncs"),
    "rsync-opt-ignore-missing-args": Key("bool", "true", "rsync --ignore-missing-args"),
    "secondary-gluster-log-level": Key("choice", "INFO", "remote mount log level", choices=_LEVELS),
    "secondary-log-level": Key("choice", "INFO", "remote gsyncd log level", choices=_LEVELS),
    "secondary-timeout": Key("int", "120", "seconds of master silence before the remote side quits", 0, 86400),
    "sync-acls": Key("bool", "true", "sync ACLs"),
    "sync-jobs": Key("int", "3", "parallel syncer jobs per worker", 1, 100),
    "sync-method": Key("choice", "rsync", "data sync method", choices=("rsync", "tarssh")),
    "sync-xattrs": Key("bool", "true", "sync extended attributes"),
    "use-rsync-xattrs": Key("bool", "false", "rsync -X"),
}

# Configurable in gsyncd's template, set by kadalu only (see the module's doc).
MANAGED: dict[str, str] = {
    **{k: "it names a program the agent runs as root" for k in (
        "ssh-command", "rsync-command", "tar-command", "gluster-command", "remote-gsyncd")},
    **{k: "it names a directory of the agent's" for k in (
        "glusterd-workdir", "gluster-logdir", "gluster-rundir", "gsyncd-miscdir", "gluster-command-dir",
        "secondary-gluster-command-dir", "meta-volume-mnt")},
    **{k: "it carries command-line arguments kadalu builds" for k in (
        "ssh-options", "ssh-options-tar", "rsync-options", "rsync-ssh-options", "gluster-params",
        "secondary-gluster-params", "gluster-cli-options", "ssh-port")},
    **{k: "kadalu's control plane decides Active/Passive and mounts" for k in (
        "use-meta-volume", "secondary-access-mount", "isolated-secondarys", "special-sync-mode", "allow-network",
        "stime-xattr-prefix", "changelog-archive-format")},
}

# configurable=false in gsyncd's template: what the session itself is.
FIXED = ("primary-bricks", "secondary-bricks", "primary-volume-id", "secondary-volume-id", "primary-replica-count",
         "primary-disperse-count", "primary-distribution-count", "pid-file", "state-file",
         "georep-session-working-dir", "working-dir", "cli-log-file", "log-file", "changelog-log-file",
         "gluster-log-file", "secondary-log-file", "secondary-gluster-log-file", "secondary-gluster-log-file-mbr")

_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class ConfigRefused(ValueError):
    """A config name or value the control plane does not pass on; the text says what to do."""


def check_name(name: str) -> Key:
    shown = name[:64]
    if name in CONFIGURABLE:
        return CONFIGURABLE[name]
    if name in MANAGED:
        raise ConfigRefused(f"config {shown!r} cannot be changed: {MANAGED[name]}")
    if name in FIXED:
        raise ConfigRefused(f"config {shown!r} cannot be changed: it describes the session itself (gsyncd marks it "
                            "not configurable)")
    raise ConfigRefused(f"config {shown!r} does not exist: `kadalu geo-replication config-get ID` lists the ones "
                        "that can be set")


def check(name: str, value: str) -> str:
    """The value gsyncd gets for `name` (booleans as true/false), or ConfigRefused."""
    key = check_name(name)
    text = str(value).strip()
    if len(text) > 64 or any(c in text for c in "\n\r\x00"):
        raise ConfigRefused(f"config {name!r}: the value must be a short single line")
    if key.kind == "bool":
        if text.lower() in _TRUE:
            return "true"
        if text.lower() in _FALSE:
            return "false"
        raise ConfigRefused(f"config {name!r} is a boolean: give true or false, not {text[:32]!r}")
    if key.kind == "int":
        if not text.isdigit() or not key.low <= int(text) <= key.high:
            raise ConfigRefused(f"config {name!r} takes a whole number from {key.low} to {key.high}, not {text[:32]!r}")
        return str(int(text))
    if key.kind == "choice":
        if text not in key.choices:
            raise ConfigRefused(f"config {name!r} takes one of {', '.join(key.choices)}, not {text[:32]!r}")
        return text
    return text


def checked_all(values: dict[str, str]) -> dict[str, str]:
    return {name: check(name, value) for name, value in values.items()}
