"""Sample volume specs for the volgen golden files: fixed ids, so outputs never change by chance."""
from contracts.volume_spec import VolumeSpec

NODES = [  # (node id, node name, storage address)
    ("6f1c0d2e-0000-4000-8000-000000000001", "node1", "192.168.10.11"),
    ("6f1c0d2e-0000-4000-8000-000000000002", "node2", "192.168.10.12"),
    ("6f1c0d2e-0000-4000-8000-000000000003", "node3", "192.168.10.13"),
]
NODE_UUID = {node_id: node_id for node_id, _, _ in NODES}  # agents use their node id as gluster uuid


def sample_spec(name: str, type_: str, bricks: int, options: dict[str, str] | None = None, **counts) -> VolumeSpec:
    """`bricks` bricks spread round-robin over the three nodes, ports from 49252 per node."""
    listed = []
    for i in range(bricks):
        node_id, node_name, address = NODES[i % 3]
        listed.append({
            "id": f"b0000000-0000-4000-8000-{i:012d}",
            "node_id": node_id, "node_name": node_name, "address": address,
            "path": f"/bricks/{name}/b{i}", "port": 49252 + i // 3,
        })
    # Credentials as the control plane makes them (uuid4 text), fixed here.
    return VolumeSpec(id=f"a1b2c3d4-0000-4000-8000-{len(name):04d}{bricks:08d}", name=name, type=type_,
                      bricks=listed, options=options or {},
                      auth_username=f"c0ffee00-0000-4000-8000-{len(name):012d}",
                      auth_password=f"5ec2e700-0000-4000-8000-{bricks:012d}", **counts)


CASES = {
    "distribute": sample_spec("dist", "distribute", 2),
    "replicate3": sample_spec("rep3", "replicate", 3, replica_count=3),
    "arbiter": sample_spec("arb", "arbiter", 3, replica_count=3, arbiter_count=1),
    "disperse3-1": sample_spec("disp", "disperse", 3, disperse_count=3, redundancy_count=1),
    "dist-replicate": sample_spec("distrep", "replicate", 6, replica_count=3),
    # Volume options (stored as the server normalizes them): brick-side, client-side, shd-side,
    # and switches that add or remove translators.
    "replicate3-options": sample_spec("rep3opt", "replicate", 3, replica_count=3, options={
        "performance.write-behind": "off",  # switch: no write-behind
        "performance.client-io-threads": "on",  # switch: io-threads under io-stats
        "performance.md-cache-timeout": "60",  # client: md-cache option
        "cluster.quorum-type": "fixed",  # client + shd: afr picks "auto" for 3 bricks without it
        "cluster.quorum-count": "2",
        "network.ping-timeout": "10",  # client + shd: every protocol/client
        "diagnostics.client-log-level": "WARNING",  # client + shd io-stats log-level
        "diagnostics.brick-log-level": "DEBUG",  # brick io-stats log-level
        "performance.io-thread-count": "32",  # brick io-threads (and the client's, switched on)
        "auth.allow": "192.168.10.*",  # brick: auth.addr.<brick path>.allow
        "cluster.self-heal-daemon": "off",  # shd only
        "cluster.data-self-heal": "off",  # client only: the daemon keeps healing data
    }),
    # TLS between clients and bricks (GlusterFS's own): every graph gets the certificate options.
    "replicate3-tls": sample_spec("rep3tls", "replicate", 3, replica_count=3, options={
        "server.ssl": "on",  # brick protocol/server
        "client.ssl": "on",  # client + shd protocol/client
        "ssl.own-cert": "/etc/ssl/glusterfs.pem",  # all three graphs
        "ssl.private-key": "/etc/ssl/glusterfs.key",
        "ssl.ca-list": "/etc/ssl/glusterfs.ca",
        "auth.ssl-allow": "client1,node*",  # brick: auth.login.<brick path>.ssl-allow
    }),
    "distribute-shard": sample_spec("dshard", "distribute", 2, options={
        "features.shard": "on",  # switch: shard above the volume
        "features.shard-block-size": "268435456",  # 256MiB, stored as a byte count (optiontable.sizes)
        "features.ctime": "off",  # switch: no utime on clients, posix ctime off on bricks
        "performance.readdir-ahead": "on",  # switch, with its option
        "performance.rda-cache-limit": "20971520",  # 20MiB
        "storage.reserve": "5%",  # brick: posix
    }),
    # `kadalu volume quota enable`, re-enabled once (quota-version 2): marker and quota switched on.
    "replicate3-quota": sample_spec("rep3q", "replicate", 3, replica_count=3, options={
        "features.quota": "on", "features.inode-quota": "on", "features.quota-deem-statfs": "on",
        "features.quota-version": "2", "features.soft-timeout": "1", "features.hard-timeout": "1",
    }),
}
