// Pairing over the relay: runs the WASM pairing machines (sans-IO) in the rendezvous room that
// the code's number names, over one relay connection that is closed at the end. The room is
// open to anyone who knows the number, so nobody in it is trusted: the offering side takes the
// first device that speaks as the code's one attempt, and the joining side talks to the first
// device that answers its start, ignoring everyone else. Every wait has a deadline. The native
// client follows the same rules (selfos-net's `pairing` module).

import { SelfosError, toSelfosError } from './errors.js';
import { RelayTransport } from './transport.js';
import type { RoomEvent } from './types.js';
import { PairingAccept, PairingCode, type PairingOffer, PairingRoom, type Vault } from './wasm.js';

/** How long a code stays usable by default (the CLI's default too). */
export const DEFAULT_EXPIRY_MS = 600_000;
/** How long the joining side waits for the offering device, and then for each of its answers. */
export const DEFAULT_OFFER_WAIT_MS = 30_000;

/** Bytes of a peer id in the rendezvous room (PROTOCOL.md, section 3). */
const PEER_ID_LEN = 16;

/** A pairing machine: messages in, messages out. */
interface Machine {
  pollTransmit(): Uint8Array | undefined;
}

/** What a side can do in the room. */
interface Room {
  /** Sends one pairing message to `peer`. */
  send(peer: string, message: Uint8Array): void;
  /** Sends everything `machine` has queued to `peer`. */
  flush(peer: string, machine: Machine): void;
  /** Fails the pairing with `error` unless it ends within `ms` (replaces the earlier deadline). */
  deadline(ms: number, error: SelfosError): void;
}

/** Handles one room event; true once the pairing succeeded, throws once it failed. */
type Side = (event: RoomEvent) => boolean;

/** Offers `offer` under `code`: resolves once the device that typed the code acknowledged the
 * grant; `expired` if none used it within `expiryMs`. */
export async function runOffer(offer: PairingOffer, code: PairingCode, relayUrl: string, expiryMs: number): Promise<void> {
  let partner: string | null = null;
  await meet(relayUrl, code, (room) => {
    const minutes = Math.ceil(expiryMs / 60_000);
    room.deadline(expiryMs, new SelfosError('expired', `no device used the code within ${minutes} min; start again with a new code`));
    return (event) => {
      if (event.type === 'peer-left' && event.peer === partner) throw peerLeft();
      if (event.type !== 'message' || (partner !== null && event.from !== partner)) return false;
      partner = event.from; // the first device that speaks is the code's one attempt
      try {
        offer.handleMessage(event.message);
      } finally {
        room.flush(event.from, offer); // an abort tells the other device to stop waiting
      }
      return offer.isComplete;
    };
  });
}

/** Receives the grant of the device offering `codeText` and makes this device's replica of the
 * vault with `restore`; a wrong code rejects (`wrong-code`) before anything is restored. */
export async function receiveVault(
  codeText: string,
  relayUrl: string,
  offerWaitMs: number,
  restore: (accept: PairingAccept) => Vault,
): Promise<Vault> {
  const code = PairingCode.parse(codeText);
  let accept: PairingAccept | undefined;
  try {
    accept = new PairingAccept(code);
    await runAccept(accept, code, relayUrl, offerWaitMs);
    return restore(accept);
  } finally {
    accept?.free();
    code.free();
  }
}

async function runAccept(accept: PairingAccept, code: PairingCode, relayUrl: string, offerWaitMs: number): Promise<void> {
  const start = accept.pollTransmit();
  if (!start) throw new SelfosError('internal', 'the pairing has no first message');
  // Whoever is in the room, or comes in before an answer, may be the offering device: the first
  // to answer is taken. A stranger who answers first costs this attempt, never the vault.
  const asked = new Set<string>();
  let partner: string | null = null;
  await meet(relayUrl, code, (room) => {
    const ask = (peer: string) => {
      asked.add(peer);
      room.send(peer, start);
    };
    room.deadline(offerWaitMs, new SelfosError('no-offer', 'no device is offering this code; check the number'));
    return (event) => {
      switch (event.type) {
        case 'joined':
          event.peers.forEach(ask);
          return false;
        case 'peer-joined':
          if (partner === null) ask(event.peer);
          return false;
        case 'peer-left':
          if (event.peer === partner) throw peerLeft();
          return false;
        case 'message':
          if (!asked.has(event.from) || (partner !== null && event.from !== partner)) return false;
          partner = event.from;
          room.deadline(offerWaitMs, new SelfosError('relay', `the other device did not answer within ${offerWaitMs} ms`));
          try {
            accept.handleMessage(event.message);
          } finally {
            room.flush(event.from, accept); // the acknowledgement, or an abort
          }
          return accept.received;
      }
    };
  });
}

/** Joins the rendezvous room of `code` over one connection and feeds `side` the room's events
 * until it succeeds or fails; closes the connection either way. */
function meet(relayUrl: string, code: PairingCode, makeSide: (room: Room) => Side): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const wire = new PairingRoom(code, relayUrl, crypto.getRandomValues(new Uint8Array(PEER_ID_LEN)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let over = false;
    const send = () => {
      for (let frame = wire.pollTransmit(); frame; frame = wire.pollTransmit()) transport.send(frame);
    };
    const finish = (error?: unknown) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      send(); // a last acknowledgement or abort goes out before the close
      transport.close();
      wire.free();
      if (error === undefined) resolve();
      else reject(toSelfosError(error));
    };
    const room: Room = {
      send: (peer, message) => wire.send(peer, message),
      flush: (peer, machine) => {
        for (let m = machine.pollTransmit(); m; m = machine.pollTransmit()) wire.send(peer, m);
      },
      deadline: (ms, error) => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(error), ms);
      },
    };
    const side = makeSide(room);
    const transport: RelayTransport = new RelayTransport(relayUrl, {
      connecting: () => undefined,
      open: () => undefined,
      message: (frame) => {
        if (over) return;
        try {
          const event = wire.handleFrame(frame);
          if (event && side(event)) finish();
        } catch (error) {
          finish(error);
        }
        if (!over) send();
      },
      close: (closeCode, reason) => {
        const why = reason ? `: ${reason}` : '';
        finish(new SelfosError('relay', `the relay connection closed before the pairing completed (${closeCode}${why})`));
      },
    });
  });
}

function peerLeft(): SelfosError {
  return new SelfosError('pairing', 'the other device left before the pairing completed');
}
