import type { SiteAdapter } from '../detect/signals';

export const copilot: SiteAdapter = {
  id: 'copilot',
  name: 'Microsoft Copilot',
  version: 2,
  matches: ['https://copilot.microsoft.com/*'],
  // Replies stream over one WebSocket per conversation: no request marks the start of a reply.
  dom: {
    // The stop button has also been seen without its test id, named by its label only (English,
    // Chinese); no markup of it that is independent of the UI language is known.
    busy: [
      'button[data-testid="stop-button"]',
      'button[aria-label="Stop responding" i]',
      'button[aria-label="停止响应"]',
    ],
    done: ['button[data-testid="copy-ai-message-button"]'],
  },
};
