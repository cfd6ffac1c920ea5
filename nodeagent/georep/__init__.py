"""Geo-replication on a node: the master side (ssh keys, gsyncd monitor and config, Passive locks,
status) and the remote side (authorized_keys with a forced command, the gluster shim)."""
