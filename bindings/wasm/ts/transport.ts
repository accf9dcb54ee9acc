// The socket to the relay, and when to reconnect. It moves bytes only: the sync engine (WASM)
// speaks the protocol, and a new engine serves each connection this transport opens.

/** What the transport reports, in order: connecting, open, messages, close; then again. */
export interface TransportHandlers {
  connecting(): void;
  open(): void;
  message(frame: Uint8Array): void;
  /** `retryInMs` is null when the transport gave up: the close code says retrying cannot help. */
  close(code: number, reason: string, retryInMs: number | null): void;
}

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

// crates/selfos-proto/PROTOCOL.md, section 6: after these the same connection would fail the
// same way (protocol error, unsupported version, unauthenticated, peer id replaced).
const FINAL_CLOSE_CODES = new Set([4001, 4002, 4003, 4006]);
const RATE_LIMITED = 4009;
/** After a rate limit, wait as if this many attempts had failed (base * 2^4 = 4 s). */
const RATE_LIMITED_FAILURES = 4;

export class RelayTransport {
  private socket: WebSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private stopped = false;
  private readonly endpoint: string;

  /** Connects at once to `relayUrl + "/v1/ws"` and keeps reconnecting until `close()`. */
  constructor(
    relayUrl: string,
    private readonly handlers: TransportHandlers,
    private readonly backoff: BackoffOptions = { baseMs: 250, capMs: 30_000 },
  ) {
    this.endpoint = `${relayUrl.replace(/\/+$/, '')}/v1/ws`;
    this.connect();
  }

  /** Sends one binary message; returns false when no connection is open (the frame is dropped). */
  send(frame: Uint8Array): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    // WebSocket refuses views of a SharedArrayBuffer; frames are copies in plain ArrayBuffers.
    this.socket.send(frame as Uint8Array<ArrayBuffer>);
    return true;
  }

  /** The relay let us in: the next outage starts the backoff from its base again. */
  joined(): void {
    this.failures = 0;
  }

  /** Closes for good; no handler is called afterwards. */
  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = null;
      socket.close(1000);
    }
  }

  private connect(): void {
    this.handlers.connecting();
    const socket = new WebSocket(this.endpoint);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => this.handlers.open();
    socket.onmessage = (event: MessageEvent<unknown>) => {
      // The protocol is binary only; a text message cannot be a frame.
      if (event.data instanceof ArrayBuffer) this.handlers.message(new Uint8Array(event.data));
    };
    socket.onclose = (event) => this.closed(event.code, event.reason);
    this.socket = socket;
  }

  private closed(code: number, reason: string): void {
    this.socket = null;
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.stopped = true;
      this.handlers.close(code, reason, null);
      return;
    }
    if (code === RATE_LIMITED) this.failures = Math.max(this.failures, RATE_LIMITED_FAILURES);
    const delay = this.nextDelay();
    this.handlers.close(code, reason, delay);
    // The handler may have closed the transport for good (a pairing makes one attempt).
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Full jitter: a random wait below the capped exponential ceiling, so devices that lost the
   * relay together do not all come back at the same instant. */
  private nextDelay(): number {
    const { baseMs, capMs } = this.backoff;
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(this.failures, 20));
    this.failures += 1;
    return Math.random() * ceiling;
  }
}
