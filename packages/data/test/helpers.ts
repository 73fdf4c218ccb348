// Test helpers: a small multilingual corpus, a seeded string generator, devices present.
import { hasDevice, type DeviceName } from '@webgrad/core';
import { SeededRandom } from '@webgrad/data';

/** The devices present in this run (cpu, and webgpu when registered). */
export const DEVICES: DeviceName[] = hasDevice('webgpu') ? ['cpu', 'webgpu'] : ['cpu'];

/** Text in several scripts, with code, emoji, combining marks, tabs, newlines and runs of spaces. */
export const MULTILINGUAL = [
  'The quick brown fox jumps over the lazy dog. It\'s 2024; we\'ll see what they\'ve done.',
  'Déjà vu: naïve café owners in São Paulo and Zürich — “quoted” ‘text’ … résumé.',
  '日本語のテキストと中文文本，还有한국어 문장도 있습니다。',
  'Emoji: 👍🏽 👨‍👩‍👧‍👦 🇯🇵 ❤️ and the flag of 🏳️‍🌈; math ∑ x² ≤ ∞.',
  'function add(a, b) {\n\treturn a + b;   // sum\n}\n\nconst xs = [1, 2, 3].map((x) => x * 2);',
  'Combining: e\u0301 a\u0308 n\u0303 — Zalgo: Z\u0351\u0347a\u0344l\u0338g\u0322o',
  'Whitespace:  two  spaces,   three,\t\ttabs,\r\nCRLF, trailing   ',
  'Ελληνικά, русский текст, עברית, العربية, हिन्दी, ไทย.',
];

/** A corpus for training: the multilingual lines, repeated with variations. */
export function corpus(repeats = 20): string[] {
  const out: string[] = [];
  for (let r = 0; r < repeats; r++) for (const line of MULTILINGUAL) out.push(`${line} ${r}`);
  return out;
}

const POOLS = [
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ' \t\n\r  ',
  '.,;:!?\'"()[]{}<>-_=+*/\\|@#$%^&~`',
  'éèêëàâäôöûüçñßøåæœ',
  '日本語中文한국어テキスト',
  '👍🏽👨‍👩‍👧‍👦🇯🇵❤️🎉😀',
  '\u0301\u0308\u0303\u200d\ufe0f',
  'ΑαΒβΓγЖжШщ',
];

/** A random string of up to `maxLen` code points drawn from mixed scripts, or any code point. */
export function randomText(rng: SeededRandom, maxLen: number): string {
  const n = rng.below(maxLen + 1);
  let s = '';
  for (let i = 0; i < n; i++) {
    if (rng.below(10) === 0) {
      // Any scalar value (no surrogates).
      let cp = rng.below(0x10ffff - 0x800) ;
      if (cp >= 0xd800) cp += 0x800;
      s += String.fromCodePoint(cp);
    } else {
      const pool = [...POOLS[rng.below(POOLS.length)]!];
      s += pool[rng.below(pool.length)];
    }
  }
  return s;
}
