#!/usr/bin/env bash
# Installs what the test cluster needs from Debian's archive (Ceph's monitor, OSD and S3 gateway,
# its command-line tools, NATS): only when a binary is missing. Needs root (or password-less sudo).
set -euo pipefail
missing=0
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph nats-server curl; do command -v "$b" >/dev/null || missing=1; done
if [ $missing = 0 ]; then echo "[cluster] Ceph, radosgw and nats-server are installed"; exit 0; fi
if [ "$(id -u)" -eq 0 ]; then sudo=; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
  echo "[cluster] installing Ceph and NATS needs root: run 'sudo bash scripts/cluster/install.sh'" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd ceph-common nats-server iproute2 curl
echo "[cluster] installed: $(ceph --version), $(nats-server --version)"
