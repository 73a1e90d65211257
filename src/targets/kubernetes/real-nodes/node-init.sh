#!/bin/sh
# PID 1 of a real node's own PID namespace, in the node's own private mount namespace (started by
# `unshare --pid --fork --kill-child --mount-proc --propagation private`). It gives the node a
# private /run, /var/lib and /var/log (containerd's shim sockets and the pod network namespaces'
# mounts, CNI caches and kubelet's container log links live there and vanish with the node), binds
# files of its own over the kernel settings kubelet rewrites (so the machine's stay as they are),
# then becomes the namespace's init: when it dies, the kernel kills every process of the node.
#   $1: the node's directory   $2: the pause binary (init: sleeps, reaps, exits on SIGTERM)
set -eu
node_dir="$1"
init="$2"
mount -t tmpfs -o mode=0755,size=64m drill-node-run /run
mount -t tmpfs -o mode=0755,size=64m drill-node-varlib /var/lib
mount -t tmpfs -o mode=0755,size=256m drill-node-log /var/log
mkdir -p "$node_dir/kernel-settings"
for key in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
  copy="$node_dir/kernel-settings/$(echo "$key" | tr / .)"
  cat "/proc/sys/$key" > "$copy"
  mount --bind "$copy" "/proc/sys/$key"
done
echo "$$" > "$node_dir/init.ready"
exec "$init"
