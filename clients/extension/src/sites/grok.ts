import type { SiteAdapter } from '../detect/signals';

export const grok: SiteAdapter = {
  id: 'grok',
  name: 'Grok',
  version: 1,
  matches: ['https://grok.com/*', 'https://x.com/i/grok*'],
  network: [
    'https://grok.com/rest/app-chat/conversations/new',
    'https://grok.com/rest/app-chat/conversations/*/responses',
  ],
  dom: {
    // The stop control is an unlabelled square icon; its path is the only stable handle.
    busy: ['path[d^="M4 9.2v5.6c0 1.116"]'],
    done: ['div.action-buttons'],
  },
};
