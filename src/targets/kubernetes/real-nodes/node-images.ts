/** What a real node needs besides kubelet: its init, and the images it runs without a registry. */
export interface NodeImages {
  /** The static pause binary, also PID 1 of each node's PID namespace. */
  initBinary: string;
  /** containerd's sandbox image (the pause image's tag in the archives). */
  sandboxImage: string;
  /** docker-archive tarballs imported into every node (pause, the system under drill). */
  archives: string[];
}

export function realNodeName(index: number): string {
  return `drill-node-${index + 1}`;
}
