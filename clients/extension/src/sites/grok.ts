import type { SiteAdapter } from '../detect/signals';

export const grok: SiteAdapter = {
  id: 'grok',
  name: 'Grok',
  version: 2,
  matches: ['https://grok.com/*', 'https://x.com/i/grok*'],
  // Newer conversations stream over a WebSocket (/ws/mgw/), opened once and reused: webRequest sees
  // its handshake only, so those replies are caught by the DOM alone.
  network: [
    'https://grok.com/rest/app-chat/conversations/new',
    'https://grok.com/rest/app-chat/conversations/*/responses',
  ],
  dom: {
    // The stop control's square icon, whose path does not depend on the UI language, then its
    // label (English, Turkish).
    busy: [
      'path[d^="M4 9.2v5.6c0 1.116"]',
      'button[aria-label="Stop model response"]',
      'button[aria-label="Model yanıtını durdur"]',
    ],
    done: ['div.action-buttons'],
  },
};
