import type { SiteAdapter } from '../detect/signals';

export const deepseek: SiteAdapter = {
  id: 'deepseek',
  name: 'DeepSeek',
  version: 2,
  matches: ['https://chat.deepseek.com/*'],
  // The second one is "Continue", which resumes a reply cut at its length limit.
  network: ['https://chat.deepseek.com/api/v0/chat/completion', 'https://chat.deepseek.com/api/v0/chat/continue'],
  dom: {
    // The send control next to the file input turns into the stop control. It is also enabled
    // while the user types, so it only means "busy" while the composer is empty.
    busy: ['body:has(textarea:placeholder-shown) input[type="file"] + div[aria-disabled="false"]'],
    done: ['div.ds-message + div > div.ds-flex'],
    failure: ['.ds-toast__content'],
  },
};
