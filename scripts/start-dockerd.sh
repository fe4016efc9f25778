#!/usr/bin/env bash
# Starts dockerd in the background when no engine answers (CI machines start
# none). Its own data/exec root keeps it apart from anything else on the host;
# --iptables=false because the sandbox this runs in has no netfilter to spare.
set -euo pipefail
if docker info >/dev/null 2>&1; then echo "dockerd: already running"; exit 0; fi
command -v dockerd >/dev/null 2>&1 || { echo "dockerd missing: apt-get install docker.io" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "dockerd is not running and starting it needs root" >&2; exit 1; }
state=${METRICSERVER_DOCKER_STATE:-/var/lib/metricserver-docker}
mkdir -p "$state/data" "$state/exec"
nohup dockerd --data-root "$state/data" --exec-root "$state/exec" --iptables=false --ip6tables=false \
  --bridge=none --host unix:///var/run/docker.sock --pidfile "$state/dockerd.pid" \
  >"$state/dockerd.log" 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then echo "dockerd: started (log: $state/dockerd.log)"; exit 0; fi
  sleep 0.5
done
echo "dockerd did not come up in 30 s; last log lines:" >&2
tail -n 20 "$state/dockerd.log" >&2
exit 1
