#!/bin/sh
# Start one Redis Sentinel; its rewritable config lives in its own volume (see sentinel.conf).
set -eu
conf=/data/sentinel.conf
if [ ! -f "$conf" ]; then
    umask 077
    cp /etc/kadalu/sentinel.conf "$conf"
    echo "sentinel auth-pass kadalu \"$REDIS_PASSWORD\"" >> "$conf"
    echo "sentinel announce-ip $SENTINEL_ANNOUNCE_HOST" >> "$conf"
fi
exec redis-server "$conf" --sentinel
