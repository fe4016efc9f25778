#!/bin/bash
# Re-takes every capture in this directory from real runsc sandboxes (root, runsc 0.0~20240729.0,
# busybox-static). At most 5 sandboxes are alive at once; all are deleted at the end.
# Usage: sudo ./capture.sh [OUT_DIR]   (default: this directory)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
BASE=/tmp/evcap
R=$BASE/r
U="node $HERE/urpc-call.mjs"
F=(--root=$R --network=none)

rm -rf $BASE && mkdir -p $R $BASE/b/rootfs
cleanup() {
  for s in "$R"/*.state; do
    [ -e "$s" ] || continue
    n=${s##*/}
    runsc --root=$R delete -force "${n%%_sandbox:*}" || true
  done
  ip netns del evcap 2>/dev/null || true
  ip link del evcaph 2>/dev/null || true
}
trap cleanup EXIT

# One read-only busybox rootfs shared by all bundles.
(cd $BASE/b && mkdir -p rootfs/{bin,proc,dev,sys,tmp,etc} && cp /bin/busybox rootfs/bin/ &&
  for a in sh sleep dd rm; do ln -sf busybox rootfs/bin/$a; done && runsc spec -- /bin/sleep 600)

# bundle ID 'shell command' [--sub SANDBOX] [--cgroup] [--netns PATH]
bundle() {
  python3 - "$BASE" "$@" <<'EOF'
import json, os, sys
base, cid, cmd, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
s = json.load(open(f'{base}/b/config.json'))
s['process']['args'] = ['/bin/sh', '-c', cmd]
if '--sub' in rest:
    s['annotations'] = {'io.kubernetes.cri.container-type': 'container',
                        'io.kubernetes.cri.sandbox-id': rest[rest.index('--sub') + 1]}
if '--cgroup' in rest:  # what containerd puts in a Kubernetes container's spec
    s['mounts'].append({'destination': '/sys/fs/cgroup', 'type': 'cgroup', 'source': 'cgroup',
                        'options': ['nosuid', 'noexec', 'nodev', 'relatime', 'ro']})
if '--netns' in rest:
    for n in s['linux']['namespaces']:
        if n['type'] == 'network':
            n['path'] = rest[rest.index('--netns') + 1]
d = f'{base}/bundle-{cid}'
os.makedirs(d, exist_ok=True)
json.dump(s, open(f'{d}/config.json', 'w'))
os.path.exists(f'{d}/rootfs') or os.symlink('../b/rootfs', f'{d}/rootfs')
EOF
}
run() { runsc "${F[@]}" run --detach --bundle "$BASE/bundle-$1" "$1" </dev/null >/dev/null 2>&1; }
# event SANDBOX ARG_JSON: the raw reply on the sandbox's control socket.
event() { $U "$R/runsc-$1.sock" "{\"method\":\"containerManager.Event\",\"arg\":$2}"; }
save() { event "$1" "$2" >"$OUT/$3"; }
stamp() { date +%s.%N; }
delete() { for id in "$@"; do runsc --root=$R delete -force "$id" & done; wait; }

# --- A: one container per sandbox ---------------------------------------------------------------
bundle idle01 'sleep 600'
bundle busy01 'while :; do :; done'
bundle mem01 'while :; do dd if=/dev/zero of=/dev/f bs=1M count=64 2>/dev/null; sleep 3; rm /dev/f; sleep 3; done'
run idle01 && run busy01 && run mem01
sleep 3
save idle01 '"idle01"' event-idle.wire.json
save busy01 '"busy01"' event-busy.wire.json
save idle01 '"nope"' event-unknown-id.wire.json
save idle01 '""' event-empty-id.wire.json
save idle01 'null' event-arg-null.wire.json
save idle01 '5' event-arg-number.wire.json
save idle01 '{}' event-arg-object.wire.json
save idle01 '["idle01"]' event-arg-array.wire.json
$U $R/runsc-idle01.sock '{"method":"containerManager.Event"}' >"$OUT/event-arg-missing.wire.json"
save idle01 '"busy01"' event-other-sandbox-id.wire.json

# The CLI around one raw call, with the host cgroup's CPU counter (cgroup v1 here) read alongside.
{
  echo "# t(host s) | what | value"
  echo "$(stamp) host-cpuacct.usage $(cat /sys/fs/cgroup/cpuacct/busy01/cpuacct.usage)"
  runsc --root=$R events --stats busy01 >"$OUT/events-stats-cli-before.json"
  echo "$(stamp) cli-before $(cat "$OUT/events-stats-cli-before.json")"
  save busy01 '"busy01"' event-busy-between-cli.wire.json
  echo "$(stamp) raw $(cat "$OUT/event-busy-between-cli.wire.json")"
  runsc --root=$R events --stats busy01 >"$OUT/events-stats-cli-after.json"
  echo "$(stamp) cli-after $(cat "$OUT/events-stats-cli-after.json")"
  echo "$(stamp) host-cpuacct.usage $(cat /sys/fs/cgroup/cpuacct/busy01/cpuacct.usage)"
} >"$OUT/events-stats-cli-vs-raw.txt"

{
  echo "# busy01 (while :; do :; done): host time (s), then the raw reply, every ~1 s"
  for _ in 1 2 3 4 5 6; do echo "$(stamp) $(event busy01 '"busy01"')"; sleep 1; done
} >"$OUT/event-busy-series.txt"
{
  echo "# mem01 (64 MiB written to /dev (tmpfs), 3 s, removed, 3 s, ...): host time (s), then the raw reply, every ~1 s"
  for _ in $(seq 1 14); do echo "$(stamp) $(event mem01 '"mem01"')"; sleep 1; done
} >"$OUT/event-memory-series.txt"
delete idle01 busy01 mem01

# --- B: a pod (root + 2 subcontainers), a created-only sandbox, a sandbox with a cgroupfs mount ---
bundle pod01 'sleep 600'
bundle app01 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; dd if=/dev/zero of=/dev/f bs=1M count=16 2>/dev/null; sleep 600' --sub pod01
bundle end01 'true' --sub pod01
bundle cr01 'sleep 600'
bundle cg01 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; sleep 600' --cgroup
run pod01 && run app01 && run end01 && run cg01
runsc "${F[@]}" create --bundle "$BASE/bundle-cr01" cr01 </dev/null >/dev/null 2>&1
sleep 4
save pod01 '"pod01"' event-pod-root.wire.json
save pod01 '"app01"' event-pod-sub.wire.json
save pod01 '"end01"' event-pod-sub-exited.wire.json
runsc --root=$R events --stats app01 >"$OUT/events-stats-cli-pod-sub.json"
save cr01 '"cr01"' event-created-not-started.wire.json
save cg01 '"cg01"' event-cgroupfs.wire.json
runsc --root=$R events --stats cg01 >"$OUT/events-stats-cli-cgroupfs.json"
delete end01 app01 cr01 cg01
delete pod01

# --- C: a pod whose containers mount cgroupfs (as under containerd), and a sandbox with eth0 ------
bundle cgp01 'sleep 600' --cgroup
bundle cga01 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; dd if=/dev/zero of=/dev/f bs=1M count=16 2>/dev/null; sleep 600' --sub cgp01 --cgroup
run cgp01 && run cga01
sleep 3
save cgp01 '"cgp01"' event-cgroupfs-pod-root.wire.json
save cgp01 '"cga01"' event-cgroupfs-pod-sub.wire.json
delete cga01
delete cgp01

# A network namespace with a veth end named eth0, handed to the sandbox (--network=sandbox). runsc
# 20240729 refuses any netns in which /proc/sys/net/core/rmem_default exists (its "root netns"
# test), which on kernels >= 6.x is every netns: hide /proc/sys/net in a private mount namespace.
ip netns add evcap
ip link add evcaph type veth peer name eth0 netns evcap
ip addr add 10.231.0.1/24 dev evcaph && ip link set evcaph up
ip -n evcap addr add 10.231.0.2/24 dev eth0 && ip -n evcap link set eth0 up && ip -n evcap link set lo up
bundle net01 'sleep 600' --netns /var/run/netns/evcap
unshare -m --propagation private sh -c \
  "mount -t tmpfs none /proc/sys/net && runsc --root=$R run --detach --bundle $BASE/bundle-net01 net01" \
  </dev/null >/dev/null 2>&1
sleep 2
{
  echo "# net01 (lo + eth0 from a netns): host time (s), then the raw reply; 3 refused TCP connects from the host in between"
  for _ in 1 2 3 4; do echo "$(stamp) $(event net01 '"net01"')"; done
  for _ in 1 2 3; do timeout 1 bash -c 'echo x >/dev/tcp/10.231.0.2/80' 2>/dev/null || true; done
  for _ in 1 2 3 4; do echo "$(stamp) $(event net01 '"net01"')"; done
} >"$OUT/event-network-series.txt"
save net01 '"net01"' event-network.wire.json
delete net01
# --- D: a process of `runsc exec` (no parent in the sandbox) spins ~4 s of CPU, then exits ----------
bundle exec01 'sleep 600'
bundle exg01 'sleep 600' --cgroup
run exec01 && run exg01
sleep 2
busy='i=0; while [ $i -lt 2000000 ]; do i=$((i+1)); done'
for id in exec01 exg01; do
  {
    echo "# $id: host time (s), then the raw reply, ~1 s apart; 'runsc exec' of a 2M-step shell loop between"
    echo "$(stamp) $(event $id "\"$id\"")"
    runsc "${F[@]}" exec $id sh -c "$busy" </dev/null >/dev/null 2>&1 &
    for _ in 1 2 3 4 5 6 7; do sleep 1; echo "$(stamp) $(event $id "\"$id\"")"; done
    wait
    echo "$(stamp) $(event $id "\"$id\"")"
  } >"$OUT/event-$id-series.txt"
done
delete exec01 exg01
cleanup
rm -rf $BASE
echo "captured into $OUT"
