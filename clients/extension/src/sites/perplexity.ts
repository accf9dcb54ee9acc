import type { SiteAdapter } from '../detect/signals';

export const perplexity: SiteAdapter = {
  id: 'perplexity',
  name: 'Perplexity',
  version: 2,
  matches: ['https://www.perplexity.ai/*'],
  network: ['https://www.perplexity.ai/rest/sse/perplexity_ask'],
  dom: {
    busy: [
      'button[data-testid="stop-button"]',
      'button[aria-label*="Stop"]',
      '[data-testid="streaming-indicator"]',
      '[class*="prose"] .animate-spin',
    ],
    // No known completion marker: the stop control gone and the text still for 1.5 s is "done".
    settleMs: 1500,
  },
};
