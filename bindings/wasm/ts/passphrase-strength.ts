/**
 * How strong a new passphrase must be (create, restore, change), the CLI's rule too: the
 * passphrase guards this device's copy of the vault secret against offline guessing at Argon2id's
 * cost, so a guessable one is refused with zxcvbn's advice.
 *
 * A module of its own (`@selfos/wasm/passphrase-strength`), not part of the package's main entry:
 * its dictionaries weigh some hundred kilobytes, which only the pages with a passphrase form load
 * (never a content script or the worker).
 */

import { ZxcvbnFactory, type TranslationKeys } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

/** zxcvbn's "safely unguessable" (about 10^10 guesses). */
const MIN_SCORE = 3;

/** Words a passphrase should not lean on: the product's own name. */
const USER_INPUTS = ['selfos'];

/**
 * zxcvbn gives its feedback as keys (core ships no wording); these are ours. Neither quotes the
 * passphrase.
 */
const WARNINGS: TranslationKeys['warnings'] = {
  straightRow: 'Straight rows of keys are easy to guess.',
  keyPattern: 'Short keyboard patterns are easy to guess.',
  simpleRepeat: 'Repeated characters like "aaa" are easy to guess.',
  extendedRepeat: 'Repeated groups of characters like "abcabc" are easy to guess.',
  sequences: 'Common sequences like "abc" are easy to guess.',
  recentYears: 'Recent years are easy to guess.',
  dates: 'Dates are easy to guess.',
  topTen: 'This is one of the ten most used passwords.',
  topHundred: 'This is one of the hundred most used passwords.',
  common: 'This is a commonly used password.',
  similarToCommon: 'This is close to a commonly used password.',
  wordByItself: 'A single word is easy to guess.',
  namesByThemselves: 'Names on their own are easy to guess.',
  commonNames: 'Common first names and surnames are easy to guess.',
  userInputs: 'It should not contain the name of this app.',
  pwned: 'This password was exposed in a data breach elsewhere.',
};

const SUGGESTIONS: TranslationKeys['suggestions'] = {
  l33t: 'Swapping letters for look-alikes ("@" for "a") adds little.',
  reverseWords: 'Spelling a common word backwards adds little.',
  allUppercase: 'Capitalise some letters, not all of them.',
  capitalization: 'Capitalise more than the first letter.',
  dates: 'Leave out dates that relate to you.',
  recentYears: 'Leave out recent years.',
  associatedYears: 'Leave out years that relate to you.',
  sequences: 'Leave out common sequences of characters.',
  repeated: 'Leave out repeated words and characters.',
  longerKeyboardPattern: 'Use longer keyboard patterns, and change direction several times.',
  anotherWord: 'Add more words that are less common.',
  useWords: 'Use several words, but not common phrases.',
  noNeed: 'Symbols, digits or capitals are not needed: several uncommon words are enough.',
  pwned: 'If you use this password elsewhere, change it there too.',
};

/** Built on the first check: ranking the dictionaries takes a moment the page need not spend on load. */
let estimator: ZxcvbnFactory | undefined;

/** Why `passphrase` is too easy to guess, with advice; `null` when it is strong enough. */
export function weakness(passphrase: string): string | null {
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  const { score, feedback } = estimator.check(passphrase, USER_INPUTS);
  if (score >= MIN_SCORE) return null;
  const warning = feedback.warning ? WARNINGS[feedback.warning as keyof typeof WARNINGS] : undefined;
  const advice = [
    ...feedback.suggestions.map((key) => SUGGESTIONS[key as keyof typeof SUGGESTIONS]),
    'Four or more random words make a strong one.',
  ].filter((line): line is string => line !== undefined);
  return ['This passphrase is too easy to guess.', warning, ...advice].filter(Boolean).join(' ');
}

/**
 * What is wrong with a new passphrase typed twice, `null` when there is nothing: the two must match
 * and the passphrase be strong enough.
 */
export function newPassphraseProblem(passphrase: string, again: string): string | null {
  if (passphrase !== again) return 'The two passphrases differ.';
  return weakness(passphrase);
}
