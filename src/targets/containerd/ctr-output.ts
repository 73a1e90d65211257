/** An image in containerd's store: its name and the digest of its manifest. */
export interface ContainerdImage {
  ref: string;
  digest: string;
}

/** `ctr images import` prints `unpacking <ref> (sha256:<digest>)...done` per image. */
export function parseImportedImages(stdout: string): ContainerdImage[] {
  const images: ContainerdImage[] = [];
  for (const line of stdout.split('\n')) {
    const match = /^unpacking (\S+) \((sha256:[0-9a-f]{64})\)/.exec(line.trim());
    if (match) images.push({ ref: match[1]!, digest: match[2]! });
  }
  return images;
}

/** `ctr images ls`: a header, then `REF TYPE DIGEST SIZE PLATFORMS LABELS` (SIZE has a space). */
export function parseImageList(stdout: string): ContainerdImage[] {
  const images: ContainerdImage[] = [];
  for (const line of stdout.split('\n').slice(1)) {
    const match = /^(\S+)\s+\S+\s+(sha256:[0-9a-f]{64})\s/.exec(line);
    if (match) images.push({ ref: match[1]!, digest: match[2]! });
  }
  return images;
}
