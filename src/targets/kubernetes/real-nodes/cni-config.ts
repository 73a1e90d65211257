import { GUARD_CIDR, podCidr } from '../../network/layout.js';

/**
 * The CNI network of one real node: a bridge of its own in the drill network with the node's pod
 * range (host-local IPAM keeping its state in the node's directory), no IP masquerade and no
 * default route in the pods: their only route is the drill range, so nothing a pod sends can leave
 * the drill network.
 */
export function cniConfig(nodeIndex: number, ipamDir: string): Record<string, unknown> {
  const { subnet, gateway } = podCidr(nodeIndex);
  return {
    cniVersion: '1.0.0',
    name: `drill-pods-${nodeIndex}`,
    plugins: [
      {
        type: 'bridge',
        bridge: cniBridgeName(nodeIndex),
        isGateway: true,
        isDefaultGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet, gateway }]],
          routes: [{ dst: GUARD_CIDR }],
          dataDir: ipamDir,
        },
      },
    ],
  };
}

export function cniBridgeName(nodeIndex: number): string {
  return `dcni${nodeIndex}`;
}
