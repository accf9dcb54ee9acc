import type { SiteAdapter } from '../detect/signals';

export const claude: SiteAdapter = {
  id: 'claude',
  name: 'Claude',
  version: 2,
  matches: ['https://claude.ai/*'],
  network: [
    'https://claude.ai/api/organizations/*/chat_conversations/*/completion',
    // "Retry" asks for the last reply again.
    'https://claude.ai/api/organizations/*/chat_conversations/*/retry_completion',
  ],
  dom: {
    // The streaming flag on the reply is the most reliable signal; the stop button's label is English only.
    busy: ['[data-is-streaming="true"]', 'button[aria-label="Stop response"]'],
    // The reply's flag turns to "false" when it is complete, so the count of "false" grows by one.
    done: ['[data-is-streaming="false"]'],
    failure: ['[role="alert"]'],
  },
};
