#!/bin/sh
# Start a Redis data node (master or replica) of the Kadalu broker.
#
# The config file lives in the node's volume, so a role Sentinel assigned (REPLICAOF + CONFIG
# REWRITE) survives a restart. On every start the node also asks the sentinels who the master
# is: a former master that comes back after a failover must rejoin as a replica at once, not
# start as a second master (HAProxy would route clients to it, and what they wrote there would
# be thrown away when Sentinel demotes it a few seconds later).
#
# Env: REDIS_PASSWORD, REDIS_ANNOUNCE_HOST (this node's name), REDIS_REPLICAOF ("host port",
# initial role on first start; empty: master), SENTINELS ("host:port ..."), SENTINEL_MASTER.
set -eu
port="${REDIS_PORT:-6379}"
data="${REDIS_DATA_DIR:-/data}"
conf="$data/redis.conf"
if [ ! -f "$conf" ]; then
    umask 077
    {
        echo "port $port"
        echo "dir $data"
        echo "appendonly yes"
        echo "requirepass \"$REDIS_PASSWORD\""
        echo "masterauth \"$REDIS_PASSWORD\""
        echo "replica-announce-ip $REDIS_ANNOUNCE_HOST"
        if [ -n "${REDIS_REPLICAOF:-}" ]; then echo "replicaof $REDIS_REPLICAOF"; fi
    } > "$conf"
fi

set --
for sentinel in ${SENTINELS:-}; do
    answer=$(redis-cli -h "${sentinel%:*}" -p "${sentinel##*:}" --raw \
             SENTINEL get-master-addr-by-name "${SENTINEL_MASTER:-kadalu}" 2>/dev/null | tr '\n' ' ') || answer=""
    master_host=$(echo "$answer" | cut -d' ' -f1)
    master_port=$(echo "$answer" | cut -d' ' -f2)
    if [ -n "$master_host" ] && [ -n "$master_port" ]; then
        if [ "$master_host" != "$REDIS_ANNOUNCE_HOST" ] || [ "$master_port" != "$port" ]; then
            echo "redis: sentinel $sentinel says the master is $master_host:$master_port: starting as its replica"
            set -- --replicaof "$master_host" "$master_port"
        fi
        break
    fi
done
exec redis-server "$conf" "$@"
