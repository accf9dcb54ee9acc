/**
 * The prompt the user just sent, for the opt-in excerpt: the last text typed into an editable
 * element of the page (a textarea or a contenteditable composer), taken when the AI starts. No
 * site needs a selector for it: composers differ, typing into them does not. Inputs (search boxes,
 * passwords) are never read, and neither are events the page made up (untrusted): a page could
 * otherwise plant the excerpt.
 */

/** Upper bound of what is sent to the worker, which cuts the excerpt from it. */
const MAX_CHARS = 4096;

/** Starts watching; the returned function takes the prompt typed since the last call ('' if none). */
export function watchPrompt(): () => string {
  let draft = '';
  addEventListener(
    'input',
    (e) => {
      if (!e.isTrusted) return;
      const t = e.target;
      const text =
        t instanceof HTMLTextAreaElement ? t.value : t instanceof HTMLElement && t.isContentEditable ? t.innerText : '';
      // Sending clears the composer: the text before that is the prompt.
      if (text.trim()) draft = text.slice(0, MAX_CHARS);
    },
    true,
  );
  return () => {
    const prompt = draft;
    draft = '';
    return prompt;
  };
}
