import type { SiteAdapter } from '../detect/signals';

export const deepseek: SiteAdapter = {
  id: 'deepseek',
  name: 'DeepSeek',
  version: 1,
  matches: ['https://chat.deepseek.com/*'],
  network: ['https://chat.deepseek.com/api/v0/chat/completion'],
  dom: {
    // The send control next to the file input turns into the stop control. It is also enabled
    // while the user types, so it only means "busy" while the composer is empty.
    busy: ['body:has(textarea:placeholder-shown) input[type="file"] + div[aria-disabled="false"]'],
    done: ['div.ds-message + div > div.ds-flex'],
    failure: ['.ds-toast__content'],
  },
};
