import net from 'node:net';

/**
 * An IPv4 address literal in 127.0.0.0/8 (the networking rule: what a drill contacts or matches is
 * loopback). A literal only: a host name such as `127.example.com` would be resolved through DNS
 * and could lead anywhere.
 */
export function isLoopbackIPv4(address: string): boolean {
  return net.isIPv4(address) && address.split('.')[0] === '127';
}
