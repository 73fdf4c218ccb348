// tokenizer.json parity with the Rust `tokenizers` library: a byte-level BPE (GPT-2 style) and a
// SentencePiece-style BPE with byte fallback in two layouts (Llama 2's normalizer, and a Metaspace
// pre-tokenizer), built offline by scripts/hf/make_fixtures.py. webgrad's ids and decodes of
// English, German, Chinese, Japanese, Arabic, emoji and code must equal the library's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ByteLevelBPETokenizer, HFTokenizer, loadTokenizer } from '@webgrad/data';
import { HF_FIXTURES } from './hf_helpers.js';

const DIR = join(HF_FIXTURES, 'tokenizers');
interface Expected { ids: number[][]; tokens: string[][]; decoded: string[] }
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { texts: string[] } & Record<'byte_level' | 'llama_style' | 'metaspace', Expected>;

describe('tokenizer.json parity with the tokenizers library', () => {
  it('the texts cover the scripts the test is about', () => {
    const all = expected.texts.join('');
    for (const re of [/[äöüßÄÖÜ]/u, /\p{Script=Han}/u, /\p{Script=Hiragana}/u, /\p{Script=Katakana}/u, /\p{Script=Arabic}/u, /\p{Extended_Pictographic}/u, /\t/, /\n/]) {
      expect(re.test(all), String(re)).toBe(true);
    }
  });

  it.each(['byte_level', 'llama_style', 'metaspace'] as const)('%s: HFTokenizer ids, tokens and decode', async (name) => {
    const tok = await HFTokenizer.load(join(DIR, name));
    const want = expected[name];
    expected.texts.forEach((text, i) => {
      const ids = tok.encode(text, { addSpecialTokens: false });
      expect(ids, `ids of text ${i}`).toEqual(want.ids[i]);
      expect(ids.map((id) => tok.idToToken(id)), `tokens of text ${i}`).toEqual(want.tokens[i]);
      expect(tok.decode(ids), `decode of text ${i}`).toBe(want.decoded[i]);
    });
  });

  it('byte-level: decode gives back the exact text and loadTokenizer picks the file up', async () => {
    const tok = await loadTokenizer(join(DIR, 'byte_level'));
    for (const text of expected.texts) expect(tok.decode(tok.encode(text, { addSpecialTokens: false }))).toBe(text);
  });

  it('byte-level: webgrad\'s own ByteLevelBPETokenizer reads the file with the same ids', async () => {
    const tok = await ByteLevelBPETokenizer.load(join(DIR, 'byte_level'));
    expected.texts.forEach((text, i) => {
      expect(tok.encode(text, { addSpecialTokens: false }), `ids of text ${i}`).toEqual(expected.byte_level.ids[i]);
      expect(tok.decode(expected.byte_level.ids[i]!), `decode of text ${i}`).toBe(expected.byte_level.decoded[i]);
    });
  });

  it('llama-style: characters outside the vocabulary fall back to byte tokens', async () => {
    const tok = await HFTokenizer.load(join(DIR, 'llama_style'));
    const ids = tok.encode('ZZZ', { addSpecialTokens: false });
    expect(ids.map((id) => tok.idToToken(id))).toEqual(['▁', '<0x5A>', '<0x5A>', '<0x5A>']);
    expect(tok.decode(ids)).toBe('ZZZ');
  });
});
