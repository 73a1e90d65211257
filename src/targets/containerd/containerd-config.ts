import path from 'node:path';

/** Where a private containerd keeps everything: all of it under one directory. */
export interface ContainerdLayout {
  /** The directory everything below lives in (a temp dir). */
  dir: string;
  config: string;
  /** gRPC socket (`ctr -a`); containerd adds `<socket>.ttrpc` next to it. */
  socket: string;
  /** Persistent state: content store, snapshots, metadata. */
  root: string;
  /** Runtime state: tasks' bundles and rootfs mounts, CRI sandboxes and netns mounts. */
  state: string;
  /** runc's state (`runc --root <runcRoot>/<namespace>`), so leftover containers can be found without containerd. */
  runcRoot: string;
  /** FIFOs of containers started with `ctr run`. */
  fifoDir: string;
  /** An empty registry host config directory: no mirrors, nothing from /etc/containerd/certs.d. */
  registryConfigDir: string;
  log: string;
}

export function containerdLayout(dir: string): ContainerdLayout {
  const p = (name: string) => path.join(dir, name);
  return {
    dir,
    config: p('config.toml'),
    socket: p('c.sock'),
    root: p('root'),
    state: p('state'),
    runcRoot: p('state/runc'),
    fifoDir: p('state/fifo'),
    registryConfigDir: p('certs.d'),
    log: p('containerd.log'),
  };
}

export interface CriSettings {
  /** The pod sandbox image (containerd's `sandbox_image`), imported before pods start. */
  sandboxImage: string;
  /** The directory with the CNI network config (the caller writes it). */
  cniConfDir: string;
  cniBinDir: string;
  /** Address of the CRI streaming server (exec, attach, port-forward): loopback or the drill's own namespace. */
  streamServerAddress: string;
}

/**
 * containerd's config (version 2 TOML) for a private instance: its own root, state and sockets,
 * plugins that would touch shared host paths disabled, and the CRI settings this machine needs.
 */
export function containerdConfigToml(layout: ContainerdLayout, cri: CriSettings): string {
  const s = (value: string) => JSON.stringify(value); // a JSON string is a valid TOML basic string
  const criKey = '[plugins."io.containerd.grpc.v1.cri"';
  return `# Written by drill (src/targets/containerd/containerd-config.ts) for one private containerd.
version = 2
root = ${s(layout.root)}
state = ${s(layout.state)}
# Plugins that use fixed host paths (/opt/containerd) or storage drivers this drill never uses.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]
# containerd leaves its own OOM score alone (lowering it needs CAP_SYS_RESOURCE).
oom_score = 0

[grpc]
  address = ${s(layout.socket)}

[plugins]
  ${criKey}]
    sandbox_image = ${s(cri.sandboxImage)}
    # This sandbox withholds CAP_SYS_RESOURCE: runc cannot set an oom_score_adj below its own.
    restrict_oom_score_adj = true
    stream_server_address = ${s(cri.streamServerAddress)}
    stream_server_port = "0"
    enable_tls_streaming = false
    disable_tcp_service = true
    # Pod network namespaces under our state dir, not the host's /var/run/netns.
    netns_mounts_under_state_dir = true
    ${criKey}.cni]
      bin_dir = ${s(cri.cniBinDir)}
      conf_dir = ${s(cri.cniConfDir)}
      max_conf_num = 1
    ${criKey}.containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      ${criKey}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        ${criKey}.containerd.runtimes.runc.options]
          # cgroupfs driver: this machine has cgroup v1 and no systemd managing cgroups.
          SystemdCgroup = false
          Root = ${s(layout.runcRoot)}
    ${criKey}.registry]
      # Images are imported, never pulled: an empty host config directory, no mirrors.
      config_path = ${s(layout.registryConfigDir)}
`;
}
