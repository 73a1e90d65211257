/**
 * A real node's containerd (1.6, config version 2): its own root in the node's directory, its
 * state in the node's private /run (the shims' sockets go there too), its socket in the node's
 * directory so the harness can import images. The CRI settings this machine needs:
 * `restrict_oom_score_adj` (runc cannot lower oom_score_adj without CAP_SYS_RESOURCE, which is
 * withheld here), cgroupfs (not systemd) for runc, the drill's pause image as sandbox image (there is
 * no registry to pull one from), CNI from Debian's containernetworking-plugins.
 */
export interface ContainerdSpec {
  root: string;
  socket: string;
  cniConfDir: string;
  cniBinDir: string;
  sandboxImage: string;
}

export function containerdConfig(s: ContainerdSpec): string {
  const q = JSON.stringify;
  return `version = 2
root = ${q(s.root)}
state = "/run/containerd"
oom_score = 0

[grpc]
  address = ${q(s.socket)}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = ${q(s.sandboxImage)}
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(s.cniBinDir)}
    conf_dir = ${q(s.cniConfDir)}
    max_conf_num = 1
`;
}
