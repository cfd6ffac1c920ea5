"""GlusterFS data path on a node: brick directories, brick and self-heal processes, mounts.

Plain functions; programs run through an injected Runner with argv lists."""
