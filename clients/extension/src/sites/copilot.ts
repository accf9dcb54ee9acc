import type { SiteAdapter } from '../detect/signals';

export const copilot: SiteAdapter = {
  id: 'copilot',
  name: 'Microsoft Copilot',
  version: 1,
  matches: ['https://copilot.microsoft.com/*'],
  // Replies stream over one WebSocket per conversation: no request marks the start of a reply.
  dom: {
    busy: ['button[data-testid="stop-button"]'],
    done: ['button[data-testid="copy-ai-message-button"]'],
  },
};
