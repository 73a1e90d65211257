#!/usr/bin/env bash
# A Docker engine of drill's own, for the testcontainers provider on machines without Docker
# (tools/README.md, "local-docker.sh"). The engine and everything it creates (its bridge, veth
# pairs, iptables rules, containers' addresses) live inside a network namespace made for it, with
# nothing but loopback and its bridge: no route out. Its mounts live in a private mount namespace
# and its runtime state on a tmpfs there, so stopping it leaves nothing behind. Clients run inside
# the namespace through `exec`.
#
#   tools/local-docker.sh start        # install docker.io if missing, start the engine, build the PostgreSQL image (cached)
#   tools/local-docker.sh exec CMD...  # run CMD in the engine's network namespace, DOCKER_HOST and testcontainers set
#   tools/local-docker.sh status       # exit 0 when running (prints pid and socket), 1 when not
#   tools/local-docker.sh stop         # stop it and everything it started; check the root network namespace
#
# Needs root (namespaces, nsenter). Environment: DRILL_DOCKER_DIR (the engine's directory, default
# ~/.cache/drill/docker/engine; its data/ keeps images between runs), DRILL_CACHE_DIR.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${DRILL_CACHE_DIR:-$HOME/.cache/drill}"
dir="${DRILL_DOCKER_DIR:-$cache/docker/engine}"
run="$dir/run"
socket="$run/docker.sock"
pidfile="$run/dockerd.pid"
image="drill-postgres:15-bookworm"

say() { printf 'local-docker: %s\n' "$*" >&2; }
die() { say "$1"; exit "${2:-1}"; }

require_root() {
  [ "$(id -u)" = 0 ] || die "needs root (it creates network and mount namespaces); run it with sudo" 3
}

# The dockerd of this directory, if it runs: the pid in our pid file, still a dockerd serving our socket.
engine_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "unix://$socket" || return 1
  echo "$pid"
}

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >/dev/null \
    || { apt-get update -qq -o DPkg::Lock::Timeout=600 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "$@" >/dev/null; }
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "dockerd is not installed and there is no apt-get; install Docker Engine 20.10+ (dockerd)" 3
  say "installing docker.io (apt-get)"
  # The package would start a system-wide dockerd with docker0 in the root network namespace:
  # service starts are refused while it installs (policy-rc.d exit 101), by a policy file made
  # for the install and removed after it, or by the one the machine has.
  local policy=/usr/sbin/policy-rc.d
  if [ -e "$policy" ]; then
    apt_install docker.io || die "apt-get install docker.io failed" 3
  else
    ( trap 'rm -f "$policy"' EXIT INT TERM; printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; apt_install docker.io ) \
      || die "apt-get install docker.io failed" 3
  fi
}

# What the calling network namespace (the root namespace, when called from a shell of this
# machine) looks like: start records it and stop compares, to prove the engine changed nothing there.
caller_network() {
  echo "## ip link"; ip -o link show | sed -E 's/ qlen [0-9]+//'
  echo "## ip addr"; ip -o addr show | sed -E 's/(valid|preferred)_lft [^ ]+//g'
  echo "## ip route"; ip route show table all
  echo "## nft"; nft list ruleset 2>/dev/null || true
  local save
  for save in iptables-save ip6tables-save iptables-legacy-save; do
    command -v "$save" >/dev/null 2>&1 || continue
    echo "## $save"; "$save" 2>/dev/null | grep -v '^#' || true
  done
}

# Pids of processes in the engine's network or mount namespace (recorded at start): the engine,
# its containerd, shims and docker-proxy. Container processes have namespaces of their own and
# are found through the engine's cgroup instead.
namespace_pids() {
  local net mnt p n m
  net="$(cat "$run/netns" 2>/dev/null || true)"
  mnt="$(cat "$run/mntns" 2>/dev/null || true)"
  [ -n "$net$mnt" ] || return 0
  # Never the namespaces this shell is in (the root ones): their members are not the engine's.
  if [ "$net" = "$(readlink /proc/self/ns/net)" ] || [ "$mnt" = "$(readlink /proc/self/ns/mnt)" ]; then
    say "the recorded engine namespaces are this shell's own; not stopping their processes"
    return 0
  fi
  for p in /proc/[0-9]*; do
    n="$(readlink "$p/ns/net" 2>/dev/null || true)"
    m="$(readlink "$p/ns/mnt" 2>/dev/null || true)"
    if { [ -n "$net" ] && [ "$n" = "$net" ]; } || { [ -n "$mnt" ] && [ "$m" = "$mnt" ]; }; then echo "${p#/proc/}"; fi
  done
}

cgroup_parent() { echo "drill-docker-$(printf '%s' "$dir" | sha256sum | cut -c1-10)"; }

cgroup_pids() {
  local parent
  parent="$(cgroup_parent)"
  find /sys/fs/cgroup -path "*/$parent/*" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
  [ -f "/sys/fs/cgroup/$parent/cgroup.procs" ] && cat "/sys/fs/cgroup/$parent/cgroup.procs"
  return 0
}

remove_cgroups() {
  local parent d
  parent="$(cgroup_parent)"
  # Deepest first: a cgroup directory can only be removed once it has no children.
  find /sys/fs/cgroup -depth -type d -path "*/$parent*" 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null || true; done
}

start() {
  require_root
  if pid="$(engine_pid)"; then
    say "already running (dockerd pid $pid, $socket)"
  else
    install_engine
    mkdir -p "$dir/data" "$run"
    rm -f "$socket" "$pidfile"
    caller_network > "$run/caller-network.before"
    readlink /proc/self/ns/net > "$run/caller-netns"
    cat > "$run/daemon.json" <<EOF
{
  "oom-score-adjust": 0,
  "storage-driver": "overlay2",
  "cgroup-parent": "$(cgroup_parent)",
  "deprecated-key-path": "$run/key.json",
  "shutdown-timeout": 5,
  "features": { "buildkit": false }
}
EOF
    say "starting dockerd in a network namespace of its own (log: $run/dockerd.log)"
    # setsid: the engine outlives this shell and is not in its terminal's process group.
    setsid unshare --net --mount --propagation private --fork -- "$0" __inside "$dir" > "$run/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$run/keeper.pid"
    local i ready=0
    for i in $(seq 1 600); do
      pid="$(engine_pid || true)"
      if [ -n "$pid" ] && [ -S "$socket" ] && docker_cli version --format '{{.Server.Version}}' >/dev/null 2>&1; then ready=1; break; fi
      kill -0 "$(cat "$run/keeper.pid")" 2>/dev/null || { tail -n 20 "$run/dockerd.log" >&2; die "dockerd exited while starting (log above)"; }
      sleep 0.1
    done
    [ "$ready" = 1 ] || die "dockerd did not answer within 60 s (log: $run/dockerd.log); stop it with: tools/local-docker.sh stop"
    readlink "/proc/$pid/ns/net" > "$run/netns"
    readlink "/proc/$pid/ns/mnt" > "$run/mntns"
    say "dockerd pid $pid, socket $socket"
    # The engine is drill's alone and was just started: a container in its data root was left by
    # a run killed with the engine before. (Not when it already ran: its containers may be in use.)
    local left
    left="$(docker_cli ps -aq)"
    if [ -n "$left" ]; then
      say "removing $(echo "$left" | wc -l) container(s) left by an earlier run"
      # shellcheck disable=SC2086
      docker_cli rm -f -v $left >/dev/null
    fi
  fi
  [ "${DRILL_DOCKER_NO_IMAGE:-0}" = 1 ] || DOCKER_HOST="unix://$socket" bash "$here/build-postgres-image.sh" "$image"
}

docker_cli() { DOCKER_HOST="unix://$socket" docker "$@"; }

# Runs inside the new namespaces (started by `start` through unshare).
inside() {
  ip link set lo up
  # Runtime state (containerd's socket and shims' sockets, runc state, netns bind mounts) on a
  # tmpfs of this mount namespace: it vanishes with the namespace, and a containerd of someone
  # else's under /run/containerd is neither seen nor used (dockerd starts and manages its own).
  mount -t tmpfs -o mode=755 drill-docker-run /run
  exec dockerd --config-file "$run/daemon.json" -H "unix://$socket" --pidfile "$pidfile" --data-root "$dir/data"
}

stop() {
  require_root
  local pid keeper left i
  if [ -f "$run/netns" ] && [ "$(readlink /proc/self/ns/net)" = "$(cat "$run/netns")" ]; then
    die "refusing to stop the engine from inside its own network namespace (this shell would go with it); run stop outside exec" 2
  fi
  if pid="$(engine_pid)"; then
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { say "dockerd still runs after 30 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  # What the engine started and did not take down with it (only after a crash or a kill -9).
  for i in 1 2 3; do
    left="$( { namespace_pids; cgroup_pids; } | sort -u | grep -v "^$$\$" || true)"
    [ -n "$left" ] || break
    say "stopping what the engine left: $(echo $left)"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
    sleep 0.3
  done
  keeper="$(cat "$run/keeper.pid" 2>/dev/null || true)"
  if [ -n "$keeper" ]; then for i in $(seq 1 50); do kill -0 "$keeper" 2>/dev/null || break; sleep 0.1; done; fi
  remove_cgroups
  local status=0
  left="$( { namespace_pids; cgroup_pids; } | sort -u || true)"
  if [ -n "$left" ]; then say "processes of the engine still run: $(echo $left)"; status=1; fi
  if [ -f "$run/caller-network.before" ]; then
    if [ "$(readlink /proc/self/ns/net)" != "$(cat "$run/caller-netns")" ]; then
      say "not started from this network namespace: its interfaces, routes and rules are not compared"
    else
      # The engine can only add (an interface, address, route or rule); what went away was removed
      # by someone else meanwhile (on a shared machine, another program's temporary route).
      local added gone
      caller_network > "$run/caller-network.after"
      # diff exits 1 when the files differ: that is the answer here, not an error.
      added="$(diff "$run/caller-network.before" "$run/caller-network.after" | sed -n 's/^> //p' || true)"
      gone="$(diff "$run/caller-network.before" "$run/caller-network.after" | sed -n 's/^< //p' || true)"
      if [ -n "$gone" ]; then say "gone from this network namespace while the engine ran (not the engine's doing): $(echo "$gone" | tr '\n' ';')"; fi
      if [ -n "$added" ]; then
        printf '%s\n' "$added" >&2
        say "appeared in this network namespace while the engine ran (above): the engine's (it escaped its namespace) or another program's"
        status=1
      fi
    fi
  fi
  rm -f "$socket" "$pidfile" "$run/keeper.pid" "$run/netns" "$run/mntns" "$run/caller-netns" "$run/caller-network.before" "$run/caller-network.after" "$run/key.json"
  [ "$status" = 0 ] && say "stopped; nothing left running"
  return "$status"
}

status() {
  if pid="$(engine_pid)"; then echo "running: dockerd pid $pid, DOCKER_HOST=unix://$socket, image $image"; return 0; fi
  echo "not running"
  return 1
}

exec_inside() {
  require_root
  local pid
  pid="$(engine_pid)" || die "the engine is not running; start it with: tools/local-docker.sh start" 3
  [ "$#" -gt 0 ] || die "usage: tools/local-docker.sh exec COMMAND [ARGS...]" 2
  # Only the network namespace: the command sees this machine's files and users as usual.
  # HOST_OVERRIDE: this machine may carry /.dockerenv, which makes testcontainers look for a
  # "bridge" network it cannot use. Ryuk (testcontainers' reaper) needs a registry; drill removes
  # its containers itself (teardown, and the resource ledger after a kill).
  exec nsenter --net="/proc/$pid/ns/net" -- env \
    DOCKER_HOST="unix://$socket" \
    TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 \
    TESTCONTAINERS_RYUK_DISABLED=true \
    DRILL_POSTGRES_IMAGE="${DRILL_POSTGRES_IMAGE:-$image}" \
    "$@"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  exec) shift; exec_inside "$@" ;;
  __inside) dir="$2"; run="$dir/run"; socket="$run/docker.sock"; pidfile="$run/dockerd.pid"; inside ;;
  *) die "usage: tools/local-docker.sh start | stop | status | exec COMMAND [ARGS...]" 2 ;;
esac
