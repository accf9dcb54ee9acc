import type { SiteAdapter } from '../detect/signals';

export const lechat: SiteAdapter = {
  id: 'lechat',
  name: 'Le Chat',
  version: 1,
  matches: ['https://chat.mistral.ai/*'],
  network: ['https://chat.mistral.ai/api/chat*'],
  dom: {
    // The send button's icon becomes a rounded square (stop) inside the composer form.
    busy: ['form rect[rx="2"]'],
    // The assistant message's footer (copy, rate) is rendered once the reply is complete.
    done: ['div[data-message-author-role="assistant"] > div + div > div:last-child > div:first-child'],
  },
};
