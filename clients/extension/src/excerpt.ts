/** The prompt excerpt stored with an answer when the user opted in. */

/** About a tweet: enough to recall what was asked, little enough to stay an excerpt. */
export const EXCERPT_CHARS = 280;

/**
 * `text` with its whitespace collapsed, cut at a word boundary to at most `EXCERPT_CHARS`
 * characters (an ellipsis marks the cut); `undefined` when nothing is left.
 */
export function excerptOf(text: string): string | undefined {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (!flat) return undefined;
  const chars = [...flat];
  if (chars.length <= EXCERPT_CHARS) return flat;
  const cut = chars.slice(0, EXCERPT_CHARS - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > EXCERPT_CHARS / 2 ? cut.slice(0, space) : cut}…`;
}
