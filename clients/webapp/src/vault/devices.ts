// The devices this dashboard has seen in the vault's room. The relay reports peers as they come
// and go (`peer` events); nothing lists past devices, so the dashboard keeps a small list of its
// own in localStorage, per vault.

export interface SeenDevice {
  /** The peer's replica id (hex). */
  replica: string;
  present: boolean;
  /** When it was last seen present (ms since the epoch). */
  lastSeenMs: number;
}

/** Enough for every device a person owns; the oldest fall off. */
export const MAX_DEVICES = 32;

/** The list after `replica` came (`present`) or left at `nowMs`, most recently seen first. */
export function notePeer(devices: readonly SeenDevice[], replica: string, present: boolean, nowMs: number): SeenDevice[] {
  const rest = devices.filter((d) => d.replica !== replica);
  const updated: SeenDevice = { replica, present, lastSeenMs: nowMs };
  return [updated, ...rest].slice(0, MAX_DEVICES);
}

/** Without a connection no peer can be present; each keeps its last-seen time. */
export function markAllAbsent(devices: readonly SeenDevice[], nowMs: number): SeenDevice[] {
  return devices.map((d) => (d.present ? { ...d, present: false, lastSeenMs: nowMs } : d));
}

/** Under the prefix the dashboard clears when the replica is forgotten (see `forgetReplica`). */
export function devicesKey(vaultId: string): string {
  return `selfos-dashboard.devices.${vaultId}`;
}

export function loadDevices(storage: Storage, vaultId: string): SeenDevice[] {
  const raw = storage.getItem(devicesKey(vaultId));
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isSeenDevice) : [];
  } catch {
    return []; // a list another version wrote: start over rather than fail the view
  }
}

export function saveDevices(storage: Storage, vaultId: string, devices: readonly SeenDevice[]): void {
  storage.setItem(devicesKey(vaultId), JSON.stringify(devices));
}

function isSeenDevice(value: unknown): value is SeenDevice {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return typeof d.replica === 'string' && typeof d.present === 'boolean' && typeof d.lastSeenMs === 'number';
}
