// The name a new replica gives itself until the user picks one, such as "Chrome on Linux": what
// the vault's other devices show for it. Read from the user agent, which pages and workers have.

const BROWSERS: [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrome\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];

const SYSTEMS: [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad/, 'iOS'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X/, 'macOS'],
  [/Windows/, 'Windows'],
  [/Linux/, 'Linux'],
];

const first = (table: [RegExp, string][], ua: string, otherwise: string) =>
  table.find(([pattern]) => pattern.test(ua))?.[1] ?? otherwise;

/** "Browser on system" for the user agent `ua` (this one's by default). */
export function defaultDeviceName(ua: string = navigator.userAgent): string {
  return `${first(BROWSERS, ua, 'A browser')} on ${first(SYSTEMS, ua, 'an unknown system')}`;
}
