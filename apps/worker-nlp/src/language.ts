import { franc } from 'franc-min';

/** franc needs some text to tell languages apart; below this it answers "und". */
const MIN_LANGUAGE_CHARS = 20;

/** The text's language as ISO 639-3 (franc, trigram statistics over 82 languages), or "und" when it is too short to tell. */
export function detectLanguage(text: string): string {
  return text.replace(/\s+/g, ' ').trim().length < MIN_LANGUAGE_CHARS ? 'und' : franc(text, { minLength: MIN_LANGUAGE_CHARS });
}
