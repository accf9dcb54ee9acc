// Which relay addresses a client connects to: `wss://`, or plain `ws://` to a relay on this
// machine only. A plain connection across a network would show the relay's traffic to anyone on
// the path and let them stand in for the relay. The native client applies the same rule
// (`RelayAddress` in selfos-net).

import { SelfosError } from './errors.js';

/** The relay's origin (`wss://host[:port]`, or `ws://` to localhost, 127.0.0.0/8 or [::1]),
 * without a trailing slash; throws an `invalid` error for anything else. */
export function relayOrigin(relayUrl: string): string {
  const url = URL.canParse(relayUrl) ? new URL(relayUrl) : null;
  const plainToThisMachine = url?.protocol === 'ws:' && isLoopback(url.hostname);
  if (!url || !(url.protocol === 'wss:' || plainToThisMachine) || url.hostname === '') {
    throw new SelfosError(
      'invalid',
      `not a relay address: ${relayUrl} (use wss://HOST[:PORT]; ws:// only to a relay on this machine)`,
    );
  }
  return relayUrl.trim().replace(/\/+$/, '');
}

function isLoopback(hostname: string): boolean {
  // `URL` lowercases host names, keeps IPv6 in brackets and writes IPv4 in dotted decimal.
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
