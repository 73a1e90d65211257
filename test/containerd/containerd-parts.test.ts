import { describe, expect, it } from 'vitest';
import { containerdConfigToml, containerdLayout } from '../../src/targets/containerd/containerd-config.js';
import { parseImageList, parseImportedImages } from '../../src/targets/containerd/ctr-output.js';
import { parseShimCommandLine, shimSocketPath } from '../../src/targets/containerd/shim-processes.js';
import { mountsUnder, parseMountinfo } from '../../src/targets/process/mounts.js';

describe('private containerd parts', () => {
  it('writes a version 2 config with its own paths and the CRI settings this machine needs', () => {
    const layout = containerdLayout('/tmp/drill-ctd-abc');
    const toml = containerdConfigToml(layout, {
      sandboxImage: 'drill.local/pause:3.10',
      cniConfDir: '/tmp/net "x"',
      cniBinDir: '/usr/lib/cni',
      streamServerAddress: '127.0.0.1',
    });
    expect(toml).toMatch(/^version = 2$/m);
    expect(toml).toMatch(/^root = "\/tmp\/drill-ctd-abc\/root"$/m);
    expect(toml).toMatch(/^state = "\/tmp\/drill-ctd-abc\/state"$/m);
    expect(toml).toMatch(/^ {2}address = "\/tmp\/drill-ctd-abc\/c.sock"$/m);
    expect(toml).toContain('sandbox_image = "drill.local/pause:3.10"');
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('snapshotter = "overlayfs"');
    expect(toml).toContain('SystemdCgroup = false');
    expect(toml).toContain('Root = "/tmp/drill-ctd-abc/state/runc"');
    expect(toml).toContain('bin_dir = "/usr/lib/cni"');
    // Quotes in a path are escaped, not TOML syntax.
    expect(toml).toContain('conf_dir = "/tmp/net \\"x\\""');
    expect(toml).toContain('stream_server_address = "127.0.0.1"');
    expect(toml).toContain('netns_mounts_under_state_dir = true');
    expect(toml).toContain('"io.containerd.internal.v1.opt"');
  });

  it('lists mounts under a directory deepest first, decoding escapes, never a sibling with the same prefix', () => {
    const mountinfo = [
      '22 1 8:1 / / rw - ext4 /dev/vda rw',
      '48 22 0:40 / /tmp/ctd/state/t/p1/rootfs rw - overlay overlay rw,lowerdir=/a',
      '49 22 0:41 / /tmp/ctd/state/sb/shm rw - tmpfs shm rw',
      '50 48 0:42 / /tmp/ctd/state/t/p1/rootfs/dev rw - tmpfs tmpfs rw',
      '51 22 0:43 / /tmp/ctd-other/x rw - tmpfs tmpfs rw',
      '52 22 0:44 / /tmp/ctd/with\\040space rw - tmpfs tmpfs rw',
      '53 49 0:45 / /tmp/ctd/state/sb/shm rw - tmpfs shm rw',
    ].join('\n');
    expect(mountsUnder('/tmp/ctd', parseMountinfo(mountinfo)).map((m) => `${m.fstype} ${m.path}`)).toEqual([
      'tmpfs /tmp/ctd/state/t/p1/rootfs/dev',
      'overlay /tmp/ctd/state/t/p1/rootfs',
      // Stacked on one path: the newest first.
      'tmpfs /tmp/ctd/state/sb/shm',
      'tmpfs /tmp/ctd/state/sb/shm',
      'tmpfs /tmp/ctd/with space',
    ]);
  });

  it('recognises a shim of this containerd from its command line, and where its socket is', () => {
    const argv = ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'k8s.io', '-id', 'p1', '-address', '/tmp/dctd-6dxqzF/c.sock', ''];
    const shim = parseShimCommandLine(42, argv);
    expect(shim).toEqual({ pid: 42, namespace: 'k8s.io', id: 'p1', address: '/tmp/dctd-6dxqzF/c.sock' });
    // Observed with containerd 1.6.20 for exactly this shim.
    expect(shimSocketPath(shim!)).toBe('/run/containerd/s/92a76ded6f54a39c9e98bfe4d397bc58c289ea94296e52d0b1eaba869a5ab57e');
    expect(parseShimCommandLine(43, ['/usr/bin/containerd', '--config', '/tmp/x/config.toml'])).toBeUndefined();
    expect(parseShimCommandLine(44, ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'k8s.io'])).toBeUndefined();
  });

  it('reads ctr import and image list output', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImportedImages(`unpacking drill.local/pause:3.10 (${digest})...done\n`)).toEqual([{ ref: 'drill.local/pause:3.10', digest }]);
    const list = [
      'REF                     TYPE                                                 DIGEST   SIZE      PLATFORMS   LABELS',
      `drill.local/pause:3.10  application/vnd.docker.distribution.manifest.v2+json ${digest} 669.3 KiB linux/amd64 io.cri-containerd.image=managed`,
    ].join('\n');
    expect(parseImageList(list)).toEqual([{ ref: 'drill.local/pause:3.10', digest }]);
  });
});
