import { createHash } from 'node:crypto';
import { InputError } from '../../engine/errors.js';
import { LAYER_MTIME } from './layer-spec.js';

/**
 * The image config JSON (Docker image spec v1.2 / OCI image config): what a runtime needs to
 * start the image. Keys are written in a fixed order and nothing depends on the clock or the
 * host, so the same layers and settings give the same config digest, the image ID.
 */

export interface ContainerSettings {
  /** `NAME=value`, in this order. */
  env: string[];
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  /** `uid[:gid]` or a name from the image's /etc/passwd. */
  user?: string;
  /** TCP ports the service listens on (documentation for runtimes; nothing is published). */
  exposedPorts?: number[];
  labels?: Record<string, string>;
}

export interface ConfigLayer {
  diffId: string;
  /** The history line for this layer (`docker history` shows it). */
  createdBy: string;
}

export const IMAGE_CREATED = new Date(LAYER_MTIME * 1000).toISOString();

/** The platform of this machine in OCI terms (images run where they are built). */
export function hostPlatform(): { os: string; architecture: string } {
  const architecture: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { os: 'linux', architecture: architecture[process.arch] ?? process.arch };
}

export function imageConfigJson(layers: ConfigLayer[], settings: ContainerSettings): Buffer {
  const { os, architecture } = hostPlatform();
  const config: Record<string, unknown> = {};
  if (settings.user !== undefined) config.User = settings.user;
  if (settings.exposedPorts?.length) {
    config.ExposedPorts = Object.fromEntries([...new Set(settings.exposedPorts)].sort((a, b) => a - b).map((p) => [`${p}/tcp`, {}]));
  }
  config.Env = settings.env;
  if (settings.entrypoint !== undefined) config.Entrypoint = settings.entrypoint;
  if (settings.cmd !== undefined) config.Cmd = settings.cmd;
  if (settings.workingDir !== undefined) config.WorkingDir = settings.workingDir;
  if (settings.labels && Object.keys(settings.labels).length > 0) {
    config.Labels = Object.fromEntries(Object.entries(settings.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  const document = {
    architecture,
    os,
    created: IMAGE_CREATED,
    config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((l) => ({ created: IMAGE_CREATED, created_by: l.createdBy })),
  };
  return Buffer.from(JSON.stringify(document));
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// The reference grammar of github.com/distribution/reference, restricted to name:tag.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?';
const TAGGED = new RegExp(`^(${DOMAIN})/(${COMPONENT}(?:/${COMPONENT})*):([\\w][\\w.-]{0,127})$`);

/**
 * Checks an image tag such as `drill.local/truststream:4.4.0`. A registry-like first component
 * (with a dot, a port, or `localhost`) is required: without one, containerd and kubelet would
 * read the name as `docker.io/library/...`, and pods naming the short form would not find it.
 */
export function checkImageTag(tag: string): string {
  const match = TAGGED.exec(tag);
  const domain = match?.[1] ?? '';
  if (!match || !(domain.includes('.') || domain.includes(':') || domain === 'localhost') || tag.length > 255) {
    throw new InputError(
      'BAD_IMAGE_TAG',
      `"${tag}" is not an image tag of the form <registry>/<name>:<tag> (lowercase name, a registry part with a dot such as drill.local, a tag of letters, digits, "._-"); e.g. drill.local/truststream:4.4.0`,
    );
  }
  return tag;
}
