import type { SiteAdapter } from '../detect/signals';

export const poe: SiteAdapter = {
  id: 'poe',
  name: 'Poe',
  version: 1,
  matches: ['https://poe.com/*'],
  // Sending goes through a GraphQL endpoint that every other query shares, and the reply comes
  // over a WebSocket: the DOM is the only signal.
  dom: {
    busy: ['[aria-label="Stop message"]', '[data-complete="false"]'],
    done: ['[data-complete="true"]'],
  },
};
