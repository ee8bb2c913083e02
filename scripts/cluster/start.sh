#!/usr/bin/env bash
# Starts a throwaway Ceph cluster (one monitor, memstore OSDs, the radosgw S3 gateway) and a NATS
# server with JetStream, all on loopback, for the tests and for trying out `--db s3://…`.
# Idempotent: starts only what is not running. State in $VISOR_CLUSTER_DIR (default /tmp/visor-cluster);
# writes env.json and env.sh there. VISOR_CLUSTER_OSDS=1..3 (default 1; 3 for replication tests).
# Ports (loopback): VISOR_RGW_PORT (7480), VISOR_NATS_PORT (4222), VISOR_MON_PORT (3300).
# No authentication and data in RAM: for tests on one machine only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
need_binaries

OSDS=${VISOR_CLUSTER_OSDS:-1}
case $OSDS in 1 | 2 | 3) ;; *) echo "VISOR_CLUSTER_OSDS must be 1, 2 or 3 (got '$OSDS')" >&2; exit 2 ;; esac
t0=$(now)
mkdir -p "$D"
# One start at a time (test runs in parallel may all find the rig missing).
exec 9>"$D/start.lock"
flock 9

# --- Ceph: a new cluster unless its monitor still runs (memstore OSDs cannot outlive their cluster).
if alive "$D/run/mon.a.pid"; then
  OSDS=$(cat "$D/osds")
  [ "${VISOR_CLUSTER_OSDS:-$OSDS}" = "$OSDS" ] || say "keeping the running cluster's $OSDS OSD(s) (asked for ${VISOR_CLUSTER_OSDS}); stop.sh first to change it"
  say "monitor already running"
else
  for f in "$D"/run/*.pid; do [ -e "$f" ] && [ "$(basename "$f")" != nats.pid ] && kill_pidfile "$f"; done
  rm -rf "$D/mon" "$D/monmap" "$D/osd" "$D/run" "$D/log" "$D/rgw" "$D/env.json" "$D/env.sh"
  mkdir -p "$D/mon" "$D/osd" "$D/run" "$D/log" "$D/rgw"
  echo "$OSDS" >"$D/osds"
  fsid=$(cat /proc/sys/kernel/random/uuid)
  min=$((OSDS >= 2 ? OSDS - 1 : 1))
  cat >"$CONF" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public network = 127.0.0.0/8
# No authentication (loopback only); the gateway then needs crc mode or it hangs in
# "get_initial_auth_request returned -13".
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
run dir = $D/run
pid file = $D/run/\$name.pid
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
mon cluster log file = $D/log/cluster.log
osd pool default size = $OSDS
osd pool default min size = $min
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool delete = true
mon allow pool size one = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = 4294967296
# Quick failure detection for the kill-an-OSD tests.
osd heartbeat grace = 6
osd heartbeat interval = 2
mon osd down out interval = 30
# Memstore reports itself rotational, so Ceph would sleep 0.1 s between recovery operations (meant
# for spinning disks): a restarted OSD then took minutes to refill 1.5 GB instead of seconds.
osd recovery sleep hdd = 0
[mon]
mon data = $D/mon/\$name
[osd]
osd data = $D/osd/\$id
osd max object name len = 460
osd max object namespace len = 64
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $D/rgw
rgw dns name = 127.0.0.1
CONF
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$D/monmap" >"$D/log/mon.mkfs.log" 2>&1 || { cat "$D/log/mon.mkfs.log" >&2; exit 1; }
  ceph-mon -c "$CONF" -i a 2>>"$D/log/mon.a.stderr.log" 9>&-
  for i in $(seq 1 100); do ceph_ -s >/dev/null 2>&1 && break; sleep 0.2; done
  say "monitor up after $(since "$t0") s"
fi

pids=()
for n in $(seq 0 $((OSDS - 1))); do
  alive "$D/run/osd.$n.pid" && continue
  start_osd "$n" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || { echo "[cluster] an OSD failed to start: see $D/log/osd.*" >&2; exit 1; }; done
# Wait until every OSD is up (the gateway creates its pools as it starts).
for i in $(seq 1 300); do
  up=$(ceph_ osd stat -f json 2>/dev/null | sed -n 's/.*"num_up_osds":\([0-9]*\).*/\1/p')
  [ "${up:-0}" -ge "$OSDS" ] && break
  sleep 0.2
done
[ "${up:-0}" -ge "$OSDS" ] || { echo "[cluster] only ${up:-0} of $OSDS OSDs came up: see $D/log/osd.*.log" >&2; exit 1; }
say "$OSDS OSD(s) up after $(since "$t0") s"

# --- The S3 gateway, its user and the test bucket.
if ! alive "$D/run/client.rgw.pid"; then
  radosgw -c "$CONF" -n client.rgw 2>>"$D/log/client.rgw.stderr.log" 9>&-
fi
for i in $(seq 1 600); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$RGW_PORT/" || true)
  [ "$code" = 200 ] && break
  sleep 0.2
done
[ "$code" = 200 ] || { echo "[cluster] the S3 gateway does not answer on 127.0.0.1:$RGW_PORT: see $D/log/client.rgw.log" >&2; exit 1; }
if ! radosgw-admin -c "$CONF" user info --uid visor >/dev/null 2>&1; then
  radosgw-admin -c "$CONF" user create --uid visor --display-name visor --access-key "$ACCESS_KEY" --secret "$SECRET_KEY" >/dev/null
fi
s3() { curl -s -o /dev/null -w '%{http_code}' -m 10 --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
code=$(s3 -I "http://127.0.0.1:$RGW_PORT/$BUCKET")
if [ "$code" != 200 ]; then
  code=$(s3 -X PUT "http://127.0.0.1:$RGW_PORT/$BUCKET")
  [ "$code" = 200 ] || { echo "[cluster] creating bucket $BUCKET failed (HTTP $code)" >&2; exit 1; }
fi
say "S3 gateway answers on 127.0.0.1:$RGW_PORT, bucket $BUCKET ready after $(since "$t0") s"

# --- NATS with JetStream (its store survives restarts of the rig).
if ! alive "$D/run/nats.pid"; then
  mkdir -p "$D/nats" "$D/run" "$D/log"
  nohup nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$D/nats" -P "$D/run/nats.pid" -l "$D/log/nats.log" >/dev/null 2>&1 9>&- &
fi
for i in $(seq 1 100); do port_open "$NATS_PORT" && break; sleep 0.1; done
port_open "$NATS_PORT" || { echo "[cluster] NATS does not accept connections on 127.0.0.1:$NATS_PORT: see $D/log/nats.log" >&2; exit 1; }
say "NATS accepts connections on 127.0.0.1:$NATS_PORT"

cat >"$D/env.json" <<JSON
{
  "endpoint": "http://127.0.0.1:$RGW_PORT",
  "region": "$REGION",
  "accessKeyId": "$ACCESS_KEY",
  "secretAccessKey": "$SECRET_KEY",
  "bucket": "$BUCKET",
  "nats": "nats://127.0.0.1:$NATS_PORT"
}
JSON
cat >"$D/env.sh" <<SH
export AWS_ENDPOINT_URL=http://127.0.0.1:$RGW_PORT
export AWS_REGION=$REGION
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_ALLOW_HTTP=true
export VISOR_QUEUE=nats://127.0.0.1:$NATS_PORT
SH
say "ready in $(since "$t0") s ($OSDS OSD(s)); settings in $D/env.json, or: . $D/env.sh"
