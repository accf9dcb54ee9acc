import type { SiteAdapter } from '../detect/signals';
import { chatgpt } from './chatgpt';
import { claude } from './claude';
import { copilot } from './copilot';
import { deepseek } from './deepseek';
import { gemini } from './gemini';
import { grok } from './grok';
import { lechat } from './lechat';
import { perplexity } from './perplexity';
import { poe } from './poe';

/** The built-in adapters, in the order the options page lists them. */
export const SITES: readonly SiteAdapter[] = [
  chatgpt,
  claude,
  gemini,
  perplexity,
  copilot,
  deepseek,
  grok,
  lechat,
  poe,
];
