#!/usr/bin/env bash
# Builds, then runs ats-server on 127.0.0.1:50051 with its SQLite database in
# var/ats.db, webhooks allowed to loopback (where the README's partner-sink
# listens) besides public addresses, and Prometheus metrics on
# http://127.0.0.1:9464/metrics. Extra arguments go to ats-server after
# these, so they take their place: e.g. a replica on PostgreSQL,
#   tools/serve.sh --db=postgresql:///ats --listen=127.0.0.1:50052 \
#     --metrics_listen=127.0.0.1:9465
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/build.sh
# The database and key files are for this user only (the server creates
# them 0600 in a 0700 directory itself; this keeps var/ so too).
umask 077
mkdir -p var
exec build/server/ats-server --listen=127.0.0.1:50051 --db=var/ats.db \
  --allowed_destination_networks=127.0.0.0/8,::1/128 \
  --metrics_listen=127.0.0.1:9464 "$@"
