import type { SiteAdapter } from '../detect/signals';

export const gemini: SiteAdapter = {
  id: 'gemini',
  name: 'Gemini',
  version: 2,
  matches: ['https://gemini.google.com/*'],
  // Sent over XHR with a query string, hence the trailing wildcard; accounts after the first one
  // signed in live under /u/N/, hence the one before the path.
  network: [
    'https://gemini.google.com/*_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate*',
  ],
  dom: {
    busy: ['mat-icon[fonticon="stop"]', 'button[aria-label*="Stop"]', 'mat-progress-bar', '[aria-busy="true"]'],
    done: ['[data-test-id="copy-button"]', 'mat-icon[fonticon="thumb_up"]'],
    // Gemini renders the reply in bursts; text that holds still for 1.5 s is complete.
    settleMs: 1500,
  },
};
