# Shared settings and helpers of the throwaway test cluster (sourced by start.sh, stop.sh, osd.sh).
# Everything lives under $VISOR_CLUSTER_DIR; daemons listen on loopback only.
D=${VISOR_CLUSTER_DIR:-/tmp/visor-cluster}
CONF=$D/ceph.conf
RGW_PORT=${VISOR_RGW_PORT:-7480}
NATS_PORT=${VISOR_NATS_PORT:-4222}
MON_PORT=${VISOR_MON_PORT:-3300}
# Fixed keys: the cluster is throwaway and reachable only from this machine.
ACCESS_KEY=visor-test-access
SECRET_KEY=visor-test-secret-0123456789abcdef
BUCKET=visor-test
REGION=us-east-1

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "[cluster] $*"; }

# A pid file's process, if it still runs.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ceph_() { timeout 30 ceph -c "$CONF" "$@"; }

# Kills the process of a pid file and waits until it is gone.
kill_pidfile() {
  local f=$1 pid i
  [ -s "$f" ] || { rm -f "$f"; return 0; }
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "${2:--TERM}" "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$f"
}

need_binaries() {
  local missing=() b
  for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool nats-server curl; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "[cluster] missing: ${missing[*]}: install them with 'bash scripts/cluster/install.sh' (as root)" >&2
    exit 3
  fi
}

# Starts OSD number $1: a fresh, empty memstore OSD under the id the cluster knows it by
# (memstore keeps data in RAM, so a restarted OSD always comes back empty and refills from its peers).
start_osd() {
  local n=$1 dir=$D/osd/$1 uuid
  mkdir -p "$dir"
  if [ -s "$dir/uuid" ]; then
    uuid=$(cat "$dir/uuid")
    # destroy-actual: plain `osd destroy` asks a manager first, and this cluster runs none.
    ceph_ osd destroy-actual "$n" --yes-i-really-mean-it >/dev/null 2>&1 || true
  else
    uuid=$(cat /proc/sys/kernel/random/uuid)
  fi
  find "$dir" -mindepth 1 ! -name uuid -delete
  local id
  id=$(ceph_ osd new "$uuid" "$n" 2>/dev/null || ceph_ osd new "$uuid")
  [ "$id" = "$n" ] || { echo "[cluster] osd.$n: the monitor gave id '$id'" >&2; return 1; }
  echo "$uuid" >"$dir/uuid"
  ceph-osd -c "$CONF" -i "$n" --mkfs --osd-uuid "$uuid" >"$D/log/osd.$n.mkfs.log" 2>&1 || { cat "$D/log/osd.$n.mkfs.log" >&2; return 1; }
  # (fd 9 is start.sh's lock: the daemon must not keep it)
  ceph-osd -c "$CONF" -i "$n" 2>>"$D/log/osd.$n.stderr.log" 9>&-
}
