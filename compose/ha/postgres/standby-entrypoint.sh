#!/bin/bash
# Entrypoint of the standby (official postgres image): on first start, clone the primary with
# pg_basebackup (-R writes standby.signal and primary_conninfo), then hand over to the image's
# own entrypoint, which sees an initialised data directory and just starts PostgreSQL - as a
# hot standby streaming from the primary through the replication slot.
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}"
: "${PRIMARY_HOST:?PRIMARY_HOST is not set}"
: "${PRIMARY_PORT:=5432}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 0700 "$PGDATA"
    echo "standby: waiting for the primary at ${PRIMARY_HOST}:${PRIMARY_PORT}"
    until gosu postgres pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT"; do sleep 1; done
    echo "standby: cloning the primary"
    # The password goes into primary_conninfo (postgresql.auto.conf, mode 0600 in PGDATA).
    PGPASSWORD="$REPLICATION_PASSWORD" gosu postgres pg_basebackup \
        -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" -D "$PGDATA" \
        -X stream -R -S "$REPLICATION_SLOT" --checkpoint=fast
fi

exec docker-entrypoint.sh "$@"
