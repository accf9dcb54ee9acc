import type { SiteAdapter } from '../detect/signals';

export const chatgpt: SiteAdapter = {
  id: 'chatgpt',
  name: 'ChatGPT',
  version: 2,
  matches: ['https://chatgpt.com/*', 'https://chat.openai.com/*'],
  network: [
    'https://chatgpt.com/backend-api/f/conversation',
    // Reasoning models hand the answer over to a second request that streams it.
    'https://chatgpt.com/backend-api/f/conversation/resume',
    // Chats without an account.
    'https://chatgpt.com/backend-anon/conversation',
    // The endpoint before the `/f/` move; kept while some accounts still use it.
    'https://chatgpt.com/backend-api/conversation',
    'https://chat.openai.com/backend-api/conversation',
  ],
  dom: {
    busy: [
      'button[data-testid="stop-button"]',
      // Pro and long-thinking modes: a text-only stop button (no icon, test id or label) takes the
      // send button's place among the composer's trailing controls, all of which are labelled.
      'form[data-type="unified-composer"] [slot="trailing"] button:not([data-testid], [aria-label], :has(svg))',
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
