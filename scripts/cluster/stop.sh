#!/usr/bin/env bash
# Stops the test cluster started by start.sh (by its pid files); --clean also removes its state.
# Others may be using it: stop only a rig you started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ -d "$D/run" ] || { say "nothing running in $D"; [ "${1:-}" = --clean ] && rm -rf "$D"; exit 0; }
# Ceph's daemons get SIGKILL: a memstore OSD stopped cleanly first dumps its RAM to disk, which a
# throwaway cluster never reads again (start.sh makes a new one). NATS gets to flush its streams.
[ -e "$D/run/nats.pid" ] && kill_pidfile "$D/run/nats.pid" &
for f in "$D"/run/client.rgw.pid "$D"/run/osd.*.pid "$D"/run/mon.a.pid; do
  [ -e "$f" ] && kill_pidfile "$f" -KILL &
done
wait
rm -f "$D"/run/*.asok
rm -f "$D/env.json" "$D/env.sh"
if [ "${1:-}" = --clean ]; then rm -rf "$D"; say "stopped and removed $D"; else say "stopped (state kept in $D; --clean removes it)"; fi
