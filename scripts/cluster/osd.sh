#!/usr/bin/env bash
# Kills or (re)starts one OSD of the running test cluster, to test losing a disk:
#   osd.sh kill N    kill -9 osd.N (its data, in RAM, is lost)
#   osd.sh start N   start osd.N again, empty; it refills from its peers
#   osd.sh status    which OSDs are up, the cluster's health (no manager runs, so no PG summary), RAM used
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
alive "$D/run/mon.a.pid" || { echo "no test cluster runs in $D: start it with scripts/cluster/start.sh" >&2; exit 1; }
case "${1:-}" in
  kill)
    n=${2:?osd number}
    alive "$D/run/osd.$n.pid" || { say "osd.$n is not running"; exit 0; }
    kill_pidfile "$D/run/osd.$n.pid" -KILL
    # Tell the monitor at once rather than waiting for the heartbeat grace.
    ceph_ osd down "$n" >/dev/null 2>&1 || true
    say "killed osd.$n"
    ;;
  start)
    n=${2:?osd number}
    alive "$D/run/osd.$n.pid" && { say "osd.$n already running"; exit 0; }
    t0=$(now)
    start_osd "$n"
    for i in $(seq 1 300); do
      ceph_ osd dump -f json 2>/dev/null | grep -q "\"osd\":$n,\"uuid\":\"[^\"]*\",\"up\":1" && break
      sleep 0.2
    done
    say "osd.$n up after $(since "$t0") s"
    ;;
  status)
    ceph_ osd stat
    ceph_ health detail
    # Memstore holds every replica in RAM, capped at "memstore device bytes"; near 95% writes stop.
    for f in "$D"/run/osd.*.pid; do
      n=$(basename "$f" .pid)
      alive "$f" || { echo "$n: down"; continue; }
      ceph_ daemon "$n" perf dump 2>/dev/null | tr -d ' \n' | sed -n 's/.*"stat_bytes":\([0-9]*\),"stat_bytes_used":\([0-9]*\).*/\1 \2/p' |
        awk -v n="$n" '{ printf "%s: %.0f MiB of %.0f MiB used (%.0f%%)\n", n, $2 / 1048576, $1 / 1048576, 100 * $2 / $1 }'
    done
    ;;
  *)
    echo "usage: osd.sh kill|start N | status" >&2
    exit 2
    ;;
esac
