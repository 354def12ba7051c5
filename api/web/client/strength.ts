/**
 * The password meter's engine: zxcvbn-ts with the common, French and English dictionaries. Loaded on its own chunk
 * (the dictionaries weigh about a megabyte), only by the pages that choose a password. The server's rule
 * (db/passwords.ts) still decides; the meter helps choose before sending.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import * as fr from '@zxcvbn-ts/language-fr';

const factories = {
  fr: new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...fr.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: fr.translations }),
  en: new ZxcvbnFactory({ dictionary: { ...common.dictionary, ...fr.dictionary, ...en.dictionary }, graphs: common.adjacencyGraphs, translations: en.translations }),
};

export interface Strength {
  /** 0 (very weak) to 4 (excellent). */
  readonly score: 0 | 1 | 2 | 3 | 4;
  readonly warning: string | null;
  readonly suggestions: readonly string[];
}

export function measure(lang: 'fr' | 'en', password: string, userInputs: readonly string[]): Strength {
  const result = factories[lang].check(password, [...userInputs]);
  return { score: result.score, warning: result.feedback.warning, suggestions: result.feedback.suggestions };
}
