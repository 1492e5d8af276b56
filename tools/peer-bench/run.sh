#!/usr/bin/env bash
# peer-bench: the same durable job as our server, done by graphile-worker
# 0.18 on PostgreSQL 15, for comparison with ats-bench's figures.
#
#   tools/peer-bench/run.sh [--jobs N] [--sink 127.0.0.1:PORT] [--keep]
#                           [--node_modules DIR] [--sink_program PATH]
#                           [--complete_batch_ms MS]
#
# It enqueues N jobs (default 100,000) in batches of 1,000 with
# graphile-worker's addJobs (one graphile_worker.add_jobs call, so one
# transaction, per batch) and times that alone; then starts a runner
# (24 concurrent jobs, local queue of 500, 100 ms poll) whose task POSTs each
# job as a Standard Webhooks-signed JSON event over keep-alive connections to
# partner-sink, and times until the sink has verified N distinct webhook-ids.
# Everything listens on and talks to 127.0.0.1 only. What is missing is
# installed first: postgresql-15 with apt-get, graphile-worker@0.18.0 with npm
# into a throwaway directory (--node_modules DIR installs into, or reuses,
# DIR instead), partner-sink by building it. A throwaway PostgreSQL cluster
# (fsync on, as durable as our SQLite) and partner-sink are started on free
# loopback ports (--sink uses a running sink instead, which is given this
# run's secret through its control API) and stopped and removed at the end,
# on failure too (--keep keeps the directories). The last line is
#   peer: jobs=N enqueue_per_s=X deliver_per_s=Y duplicates=D ...
# for tools to parse. --complete_batch_ms MS batches job completions that
# come within MS of each other into one transaction (graphile-worker's
# completeJobBatchDelay; default -1, each completion alone).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jobs=100000
sink=""
keep=0
node_modules=""
sink_program="${repo}/build/tools/partner-sink/partner-sink"
complete_batch_ms=-1

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --jobs) jobs="$2"; shift 2 ;;
    --sink) sink="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --node_modules) node_modules="$2"; shift 2 ;;
    --sink_program) sink_program="$2"; shift 2 ;;
    --complete_batch_ms) complete_batch_ms="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "peer-bench: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ "${jobs}" =~ ^[1-9][0-9]*$ ]]; then
  echo "peer-bench: --jobs must be a positive integer" >&2; exit 2
fi
if ! [[ "${complete_batch_ms}" =~ ^(-1|[0-9]+)$ ]]; then
  echo "peer-bench: --complete_batch_ms must be -1 or a whole number" >&2
  exit 2
fi
if [[ -n "${sink}" && ! "${sink}" =~ ^127\.0\.0\.1:[0-9]+$ ]]; then
  echo "peer-bench: --sink must be 127.0.0.1:PORT (loopback only)" >&2; exit 2
fi

started=$(date +%s.%N)
pg_bin=/usr/lib/postgresql/15/bin
work="$(mktemp -d -t peer-bench.XXXXXX)"
pg_dir=""
sink_pid=""
node_pid=""

cleanup() {
  local status=$?
  set +e
  if [[ -n "${node_pid}" ]]; then
    kill "${node_pid}" 2>/dev/null && wait "${node_pid}" 2>/dev/null
  fi
  if [[ -n "${sink_pid}" ]]; then
    kill "${sink_pid}" 2>/dev/null && wait "${sink_pid}" 2>/dev/null
  fi
  if [[ -n "${pg_dir}" && -f "${pg_dir}/data/postmaster.pid" ]]; then
    as_postgres "${pg_bin}/pg_ctl" -D "${pg_dir}/data" -m fast -w stop >/dev/null
  fi
  if [[ "${keep}" == 1 ]]; then
    echo "peer-bench: kept ${work}${pg_dir:+ and ${pg_dir}}" >&2
  else
    rm -rf "${work}" ${pg_dir:+"${pg_dir}"}
  fi
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# PostgreSQL refuses to run as root: as root, its commands run as `postgres`.
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s = require("net").createServer();
           s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# --- What is missing ----------------------------------------------------------
if [[ ! -x "${pg_bin}/initdb" ]]; then
  echo "peer-bench: installing postgresql-15" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi

# graphile-worker 0.18 declares node >= 22.18; it runs on older ones (npm
# only warns), so say which node measured it.
node_version="$(node --version)"

if [[ -n "${node_modules}" ]]; then
  # A node_modules directory or the directory holding one.
  [[ "$(basename "${node_modules}")" == node_modules ]] &&
    node_modules="$(dirname "${node_modules}")"
  install_dir="$(mkdir -p "${node_modules}" && cd "${node_modules}" && pwd)"
else
  install_dir="${work}/install"
  mkdir -p "${install_dir}"
fi
installed="$(node -p 'try { require(process.argv[1]).version } catch { "" }' \
  "${install_dir}/node_modules/graphile-worker/package.json" 2>/dev/null || true)"
if [[ "${installed}" != 0.18.0 ]]; then
  echo "peer-bench: npm install graphile-worker@0.18.0 into ${install_dir}" >&2
  # A package.json of its own, so npm never touches the repository's.
  [[ -f "${install_dir}/package.json" ]] ||
    echo '{"name": "ats-peer-bench", "private": true}' >"${install_dir}/package.json"
  (cd "${install_dir}" &&
    npm install --no-audit --no-fund --loglevel=error --save-exact \
      graphile-worker@0.18.0 >/dev/null)
fi

if [[ -z "${sink}" && ! -x "${sink_program}" ]]; then
  echo "peer-bench: building partner-sink" >&2
  if [[ -f "${repo}/build/build.ninja" ]]; then
    cmake --build "${repo}/build" --target partner-sink >/dev/null
  else
    "${repo}/tools/build.sh" >/dev/null
  fi
fi

# --- PostgreSQL 15 ------------------------------------------------------------
pg_dir="$(mktemp -d -t peer-bench-pg.XXXXXX)"
[[ "$(id -u)" == 0 ]] && chown postgres: "${pg_dir}"
pg_port="$(free_port)"
as_postgres "${pg_bin}/initdb" -D "${pg_dir}/data" -U postgres --auth=trust \
  --encoding=UTF8 --no-locale >"${pg_dir}/initdb.log"
# Durability as ours: every commit is fsynced (fsync, synchronous_commit and
# full_page_writes stay on, written out so nobody wonders). The rest are the
# usual benchmark settings: a buffer cache that holds the queue, enough
# connections for the worker pool, and checkpoints that do not land mid-run.
cat >>"${pg_dir}/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = ${pg_port}
unix_socket_directories = '${pg_dir}'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 512MB
max_connections = 100
max_wal_size = 4GB
checkpoint_timeout = 30min
EOF
as_postgres "${pg_bin}/pg_ctl" -D "${pg_dir}/data" -l "${pg_dir}/postgres.log" \
  -w start >/dev/null
pg_url="postgres://postgres@127.0.0.1:${pg_port}/postgres"

# --- partner-sink -------------------------------------------------------------
if [[ -z "${sink}" ]]; then
  "${sink_program}" --listen 127.0.0.1:0 >"${work}/sink.log" 2>&1 &
  sink_pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "${work}/sink.log" && break
    kill -0 "${sink_pid}" 2>/dev/null || break
    sleep 0.1
  done
  sink="$(sed -n 's/^partner-sink listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "${work}/sink.log")"
  if [[ -z "${sink}" ]]; then
    echo "peer-bench: partner-sink did not start:" >&2
    cat "${work}/sink.log" >&2
    exit 1
  fi
fi
# The secret the jobs are signed with; peer.js hands it to the sink.
secret="whsec_$(head -c 32 /dev/urandom | base64 -w0)"

# --- The benchmark ------------------------------------------------------------
# peer.js imports graphile-worker from the node_modules beside it.
cp "${repo}/tools/peer-bench/peer.js" "${work}/peer.mjs"
ln -s "${install_dir}/node_modules" "${work}/node_modules"
echo "peer-bench: ${jobs} jobs; graphile-worker 0.18.0 on PostgreSQL" \
  "$("${pg_bin}/postgres" --version | awk '{print $3}') at 127.0.0.1:${pg_port};" \
  "node ${node_version}; sink ${sink}"
# In the background and waited for, so that a signal to this script runs
# the cleanup at once rather than after node has finished. The output file
# exists before tail follows it: tail gives up on a file not there yet.
: >"${work}/peer.out"
node "${work}/peer.mjs" --pg "${pg_url}" --sink "${sink}" --secret "${secret}" \
  --jobs "${jobs}" --complete_batch_ms "${complete_batch_ms}" \
  >>"${work}/peer.out" 2>&1 &
node_pid=$!
tail -n +1 --pid="${node_pid}" -f "${work}/peer.out" &
tail_pid=$!
status=0
wait "${node_pid}" || status=$?
node_pid=""
wait "${tail_pid}"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
elapsed="$(awk -v a="${started}" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"

result="$(sed -n 's/^result: //p' "${work}/peer.out")"
if [[ -z "${result}" ]]; then
  echo "peer-bench: peer.js gave no result" >&2
  exit 1
fi
declare -A r
for pair in ${result}; do r["${pair%%=*}"]="${pair#*=}"; done

printf '\n%-28s %s\n' "graphile-worker 0.18.0" "PostgreSQL 15, fsync on"
printf '%-28s %s\n' "jobs" "${r[jobs]}"
printf '%-28s %s/s (%s s, batches of 1,000)\n' "enqueue" \
  "${r[enqueue_per_s]}" "${r[enqueue_s]}"
printf '%-28s %s/s (%s s to %s distinct ids; sink first-last %s s)\n' \
  "delivery" "${r[deliver_per_s]}" "${r[deliver_s]}" "${r[accepted]}" \
  "${r[sink_span_s]}"
printf '%-28s %s duplicates, %s rejected, %s failed, %s job errors\n' \
  "sink" "${r[duplicates]}" "${r[rejected]}" "${r[failed]}" "${r[job_errors]}"
printf '%-28s %s\n' "jobs left in the queue" "${r[jobs_left]}"
printf '%-28s %.1f s (load average %s)\n' "whole run" "${elapsed}" "${load}"
echo "peer: jobs=${r[jobs]} enqueue_per_s=${r[enqueue_per_s]}" \
  "deliver_per_s=${r[deliver_per_s]} duplicates=${r[duplicates]}" \
  "rejected=${r[rejected]} enqueue_s=${r[enqueue_s]} deliver_s=${r[deliver_s]}" \
  "sink_span_s=${r[sink_span_s]} elapsed_s=$(printf '%.1f' "${elapsed}")"
exit "${status}"
