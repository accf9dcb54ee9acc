/**
 * Match patterns (`scheme://host/path`, the syntax browsers use for host permissions and content
 * scripts), compiled to regular expressions so that the service worker can tell which adapter or
 * rule a page or request belongs to, and the options page can reject a bad rule before asking
 * for a permission.
 */

const PATTERN = /^(\*|https?):\/\/(\*|(?:\*\.)?[^/*:]+)(\/.*)$/;
const compiled = new Map<string, RegExp | null>();

const escape = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The pattern as a RegExp over full URLs, or `null` when it is not a valid match pattern. */
export function compile(pattern: string): RegExp | null {
  let re = compiled.get(pattern);
  if (re === undefined) {
    const m = PATTERN.exec(pattern);
    if (m) {
      const [, scheme = '', host = '', path = ''] = m;
      const s = scheme === '*' ? 'https?' : scheme;
      const h =
        host === '*'
          ? '[^/]+'
          : host.startsWith('*.')
            ? `(?:[^/]+\\.)?${escape(host.slice(2))}`
            : escape(host);
      // Ports are not part of a match pattern's host; a URL with a port still matches.
      re = new RegExp(`^${s}://${h}(?::\\d+)?${escape(path).replace(/\*/g, '.*')}$`);
    } else {
      re = null;
    }
    compiled.set(pattern, re);
  }
  return re;
}

/** Whether `url` matches `pattern` (a URL's fragment never takes part). */
export function matches(pattern: string, url: string): boolean {
  return compile(pattern)?.test(url.split('#')[0] ?? '') ?? false;
}

/**
 * A custom rule must name one site: a valid pattern whose host is not `*`, so that enabling it
 * never asks for access to every site.
 */
export function isSitePattern(pattern: string): boolean {
  return compile(pattern) !== null && PATTERN.exec(pattern)?.[2] !== '*';
}

/** The part of a pattern that a host permission covers: scheme and host, any path. */
export function originOf(pattern: string): string {
  const m = PATTERN.exec(pattern);
  return m ? `${m[1]}://${m[2]}/*` : pattern;
}
