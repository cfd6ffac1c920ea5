"""Snapshots on the node: the brick barrier (barrier_rpc), the backends that snapshot a brick's file
system (btrfs subvolumes, LVM thin volumes) and the task handlers (handlers)."""
