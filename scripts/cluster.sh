#!/usr/bin/env bash
# Starts an aonode cluster on this machine, as a deployment spread over several machines would run it:
# arlocal (the gateway), Redis (shared by the CUs), two SU nodes, two CU-only nodes and one MU-only node, each
# from its ready config under configs/cluster. Ctrl-C stops everything; state stays in .aonode-cluster/.
#
#   ./scripts/cluster.sh            start (builds aonode, installs arlocal into e2e/ when missing)
#   ./scripts/cluster.sh clean      remove .aonode-cluster/ (every node's data and arlocal's chain)
set -euo pipefail
cd "$(dirname "$0")/.."
root=.aonode-cluster

if [[ "${1:-}" == "clean" ]]; then
  rm -rf "$root"
  exit 0
fi
mkdir -p "$root/logs"
pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping the cluster"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 300); do answers "$1" && return 0; sleep 0.1; done
  echo "cluster.sh: nothing answers on port $1 (see $root/logs/)" >&2
  exit 1
}

if ! answers 6379; then
  command -v redis-server >/dev/null || { echo "cluster.sh: install redis-server (the CUs share one Redis)" >&2; exit 1; }
  redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no >"$root/logs/redis.log" 2>&1 &
  pids+=($!)
  wait_port 6379
fi
if ! answers 1984; then
  [[ -f e2e/node_modules/arlocal/bin/index.js ]] || (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
  # arlocal joins --dbpath to its working directory.
  mkdir -p "$root/arlocal"
  (cd "$root/arlocal" && exec node ../../e2e/node_modules/arlocal/bin/index.js 1984 --dbpath db --persist --hidelogs) \
    >"$root/logs/arlocal.log" 2>&1 &
  pids+=($!)
  wait_port 1984
fi

go build -o "$root/aonode" ./cmd/aonode
run() { # name, config, flags...
  local name=$1 cfg=$2
  shift 2
  "$root/aonode" -config "configs/cluster/$cfg.yaml" "$@" >"$root/logs/$name.log" 2>&1 &
  pids+=($!)
}
# Each SU publishes its Scheduler-Location record; the MU and the CUs find SUs through them.
run su1 su
wait_port 4003 # su1 creates the shared MU wallet; the others then read it
run su2 su -data-dir "$root/su2" -su :4013 -su-url http://localhost:4013 -admin 127.0.0.1:4019
wait_port 4013
run cu1 cu
run cu2 cu -data-dir "$root/cu2" -cu :4014 -admin 127.0.0.1:4039 -explorer off
run mu mu
for p in 4004 4014 4002; do wait_port "$p"; done

info() { sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$root/$1/node-info.json"; }
for _ in $(seq 100); do [[ -f "$root/su2/node-info.json" ]] && break; sleep 0.1; done
cat <<EOF
aonode cluster up (logs in $root/logs/):
  gateway   arlocal  http://localhost:1984
  MU        mu       http://localhost:4002
  SU        su1      http://localhost:4003   scheduler $(info su1 scheduler)
            su2      http://localhost:4013   scheduler $(info su2 scheduler)
  CU        cu1      http://localhost:4004   (explorer http://localhost:4005)
            cu2      http://localhost:4014
  Redis              redis://127.0.0.1:6379  (prefix aonode-cluster:)
  module             $(info su1 module)

aoconnect: connect({ MU_URL: "http://localhost:4002", CU_URL: "http://localhost:4004", GATEWAY_URL: "http://localhost:1984" })
and spawn with the module above and either scheduler. Ctrl-C stops the cluster.
EOF
wait
