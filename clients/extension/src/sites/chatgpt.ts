import type { SiteAdapter } from '../detect/signals';

export const chatgpt: SiteAdapter = {
  id: 'chatgpt',
  name: 'ChatGPT',
  version: 1,
  matches: ['https://chatgpt.com/*', 'https://chat.openai.com/*'],
  network: [
    'https://chatgpt.com/backend-api/f/conversation',
    // The endpoint before the `/f/` move; kept while some accounts still use it.
    'https://chatgpt.com/backend-api/conversation',
    'https://chat.openai.com/backend-api/conversation',
  ],
  dom: {
    busy: [
      'button[data-testid="stop-button"]',
      'button[aria-label*="Stop"]',
      '[data-is-streaming="true"]',
      'main svg.animate-spin',
    ],
    done: [
      'button[data-testid="copy-turn-action-button"]',
      'button[data-testid="good-response-turn-action-button"]',
    ],
    failure: ['div.toast-root', '[class*="text-error"]', '[role="alert"]'],
  },
};
