// Tokenizers: character-level, byte-level BPE (training, round trip, tokenizer.json), and parity
// with Hugging Face's implementations: @huggingface/tokenizers on files we wrote, and the Rust
// `tokenizers` library through a file it trained (fixtures/hf_bpe.json, made by make_hf_tokenizer.py).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndexError, ValueError } from '@webgrad/core';
import {
  BYTE_TO_CHAR, ByteLevelBPETokenizer, CharTokenizer, DataError, HFTokenizer, SeededRandom, loadTokenizer, preTokenize, type HFTokenizerJSON,
} from '@webgrad/data';
import { Tokenizer as HFLib } from '@huggingface/tokenizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { MULTILINGUAL, corpus, randomText } from './helpers.js';

describe('CharTokenizer', () => {
  it('maps sorted characters to ids and back', () => {
    const tok = CharTokenizer.fromText('hello world');
    expect(tok.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tok.encode('hold')).toEqual([3, 5, 4, 1]);
    expect(tok.decode([3, 5, 4, 1])).toBe('hold');
    expect(tok.vocabSize).toBe(8);
    expect(tok.bosId).toBeUndefined();
  });

  it('rejects unknown characters, or maps them to unk when it has one', () => {
    const tok = CharTokenizer.fromText('ab');
    expect(() => tok.encode('abc')).toThrow(DataError);
    expect(() => tok.encode('abc')).toThrow(/"c" \(U\+0063\) is not in the vocabulary/);
    const unk = CharTokenizer.fromText('ab', { unkToken: '<unk>' });
    expect(unk.unkId).toBe(2);
    expect(unk.encode('abc')).toEqual([0, 1, 2]);
    expect(unk.decode([0, 1, 2])).toBe('ab<unk>');
  });

  it('handles astral characters as one token, special tokens, and BOS/EOS', () => {
    const tok = CharTokenizer.fromText('a😀b', { specialTokens: ['<|pad|>'], bosToken: '<s>', eosToken: '</s>', padToken: '<|pad|>', addBosToken: true, addEosToken: true });
    expect(tok.chars).toEqual(['a', 'b', '😀']);
    expect(tok.specialTokens).toEqual(['<|pad|>', '<s>', '</s>']);
    expect([tok.padId, tok.bosId, tok.eosId]).toEqual([3, 4, 5]);
    const ids = tok.encode('a😀<|pad|>b');
    expect(ids).toEqual([4, 0, 2, 3, 1, 5]);
    expect(tok.encode('a', { addSpecialTokens: false })).toEqual([0]);
    expect(tok.decode(ids)).toBe('<s>a😀<|pad|>b</s>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('a😀b');
  });

  it('serializes and validates', async () => {
    const tok = CharTokenizer.fromText('xyz', { eosToken: '<eos>' });
    const back = CharTokenizer.fromJSON(JSON.stringify(tok));
    expect(back.encode('zyx<eos>')).toEqual(tok.encode('zyx<eos>'));
    expect(back.eosId).toBe(3);
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-char-'));
    await tok.save(join(dir, 'char.json'));
    const loaded = await loadTokenizer(join(dir, 'char.json'));
    expect(loaded).toBeInstanceOf(CharTokenizer);
    expect(loaded.encode('xy')).toEqual([0, 1]);
    expect(() => tok.decode([7])).toThrow(IndexError);
    expect(() => tok.decode([0.5])).toThrow(IndexError);
    expect(() => tok.encode('x', { addSpecial: true } as never)).toThrow(/unknown option "addSpecial"/);
    expect(() => CharTokenizer.fromText('ab', { specialTokens: ['a'] })).toThrow(ValueError);
    expect(() => CharTokenizer.fromText('ab', { addBosToken: true })).toThrow(/needs a bosToken/);
    expect(() => CharTokenizer.fromJSON({ type: 'Other' } as never)).toThrow(DataError);
  });
});

describe('byte-level BPE', () => {
  let tok: ByteLevelBPETokenizer;
  beforeAll(() => {
    tok = ByteLevelBPETokenizer.train(corpus(), { vocabSize: 600, minFrequency: 2, specialTokens: ['<|endoftext|>', '<pad>'], eosToken: '<|endoftext|>', padToken: '<pad>' });
  });

  it("GPT-2's byte alphabet and pre-tokenizer", () => {
    expect(BYTE_TO_CHAR[32]).toBe('Ġ');
    expect(BYTE_TO_CHAR[10]).toBe('Ċ');
    expect(BYTE_TO_CHAR[33]).toBe('!');
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(preTokenize("Hello world's  end\n\n  x")).toEqual(['Hello', ' world', "'s", ' ', ' end', '\n\n ', ' x']);
  });

  it('trains a vocabulary of the asked size: specials, 256 bytes, merges', () => {
    expect(tok.vocabSize).toBe(600);
    expect(tok.merges.length).toBeGreaterThanOrEqual(600 - 258);
    expect([tok.eosId, tok.padId, tok.bosId]).toEqual([0, 1, undefined]);
    expect(tok.tokenToId(BYTE_TO_CHAR[0]!)).toBe(2);
    expect(tok.tokenToId('Ġthe')).toBeDefined();
    // Common words of the corpus become single tokens.
    expect(tok.encode(' quick')).toHaveLength(1);
    // Training is deterministic.
    const again = ByteLevelBPETokenizer.train(corpus(), { vocabSize: 600, minFrequency: 2, specialTokens: ['<|endoftext|>', '<pad>'], eosToken: '<|endoftext|>', padToken: '<pad>' });
    expect(again.merges).toEqual(tok.merges);
  });

  it('stops early when no pair is frequent enough', () => {
    const small = ByteLevelBPETokenizer.train(['ab ab ab cd'], { vocabSize: 1000, minFrequency: 3 });
    // "ab" (3×), " ab" → only pairs seen >= 3 times merge.
    expect(small.vocabSize).toBeLessThan(262);
    expect(small.merges[0]).toEqual(['a', 'b']);
    expect(small.encode('ab')).toEqual([small.tokenToId('ab')]);
  });

  it('round-trips the multilingual text exactly', () => {
    for (const s of MULTILINGUAL) {
      const ids = tok.encode(s);
      expect(tok.decode(ids)).toBe(s);
      expect(ids.length).toBeLessThan(new TextEncoder().encode(s).length);
    }
  });

  it('round-trips random strings (property test)', () => {
    const rng = new SeededRandom(123);
    for (let i = 0; i < 400; i++) {
      const s = randomText(rng, 60);
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
    for (const s of ['', ' ', '\n', '\t\t', '     ', 'a\r\nb', '\u0000', '\uFEFFbom', 'x'.repeat(5000), '日本'.repeat(2000)]) {
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
  });

  it('encodes lone surrogates as U+FFFD; a cut multi-byte character decodes as U+FFFD', () => {
    expect(tok.decode(tok.encode('a\uD800b'))).toBe('a\uFFFDb');
    const ids = tok.encode('😀');
    expect(tok.decode(ids)).toBe('😀');
    const bytes = ByteLevelBPETokenizer.train(['z'], { vocabSize: 256 });
    expect(bytes.encode('😀')).toHaveLength(4);
    expect(bytes.decode(bytes.encode('😀').slice(0, 2))).toBe('\uFFFD');
  });

  it('matches special tokens in text and skips them on request', () => {
    const ids = tok.encode('Hi<|endoftext|>there<pad>');
    expect(ids).toContain(0);
    expect(ids[ids.length - 1]).toBe(1);
    expect(tok.decode(ids)).toBe('Hi<|endoftext|>there<pad>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('Hithere');
  });

  it('adds BOS / EOS when set up to', () => {
    const t = ByteLevelBPETokenizer.train(corpus(2), { vocabSize: 300, bosToken: '<s>', eosToken: '</s>', addBosToken: true, addEosToken: true });
    const ids = t.encode('hello');
    expect(ids[0]).toBe(t.bosId);
    expect(ids[ids.length - 1]).toBe(t.eosId);
    expect(t.encode('hello', { addSpecialTokens: false })).toEqual(ids.slice(1, -1));
  });

  it('saves and loads tokenizer.json + tokenizer_config.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-bpe-'));
    await tok.save(dir);
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    expect(json.model.type).toBe('BPE');
    expect(json.pre_tokenizer).toMatchObject({ type: 'ByteLevel', add_prefix_space: false });
    expect(json.decoder.type).toBe('ByteLevel');
    expect(json.added_tokens.map((t: { content: string }) => t.content)).toEqual(['<|endoftext|>', '<pad>']);
    expect(json.added_tokens[0]).toMatchObject({ id: 0, special: true, normalized: false });
    expect(Object.keys(json.model.vocab)).toHaveLength(600);
    expect(json.model.merges[0]).toMatch(/^\S+ \S+$/);
    const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    expect(cfg).toMatchObject({ eos_token: '<|endoftext|>', pad_token: '<pad>', clean_up_tokenization_spaces: false });
    const back = await ByteLevelBPETokenizer.load(dir);
    expect(back.merges).toEqual(tok.merges);
    expect([back.eosId, back.padId]).toEqual([0, 1]);
    for (const s of MULTILINGUAL) expect(back.encode(s)).toEqual(tok.encode(s));
    // Without the config, roles come from conventional names.
    const bare = ByteLevelBPETokenizer.fromJSON(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    expect([bare.eosId, bare.padId]).toEqual([0, 1]);
  });

  it('refuses tokenizer.json files of other kinds and malformed ones', () => {
    const json = tok.toJSON();
    expect(() => ByteLevelBPETokenizer.fromJSON({ ...json, model: { ...json.model, type: 'WordPiece' } })).toThrow(/use HFTokenizer/);
    expect(() => ByteLevelBPETokenizer.fromJSON({ ...json, normalizer: { type: 'NFC' } })).toThrow(DataError);
    expect(() => ByteLevelBPETokenizer.fromJSON({ ...json, model: { ...json.model, merges: ['Ġ zzz'] } })).toThrow(/not in the vocabulary/);
    const vocab = { ...(json.model.vocab as Record<string, number>) };
    delete vocab['Ġ'];
    expect(() => new ByteLevelBPETokenizer(vocab, [])).toThrow(/lacks the byte symbol "Ġ"/);
  });

  it('validates arguments', () => {
    expect(() => ByteLevelBPETokenizer.train('abc', { vocabSize: 100 })).toThrow(/vocabSize must be an integer >= 256/);
    expect(() => ByteLevelBPETokenizer.train('abc', { vocabSize: 300, minFrequency: 0 })).toThrow(ValueError);
    expect(() => ByteLevelBPETokenizer.train('abc', { vocabSize: NaN })).toThrow(ValueError);
    expect(() => ByteLevelBPETokenizer.train('abc', { vocabSize: 300, vocab: 3 } as never)).toThrow(/unknown option "vocab"/);
    expect(() => ByteLevelBPETokenizer.train([1] as never, { vocabSize: 300 })).toThrow(/corpus item 0 must be a string/);
    expect(() => tok.encode(3 as never)).toThrow(/text must be a string/);
    expect(() => tok.decode([tok.vocabSize])).toThrow(IndexError);
  });
});

describe("Hugging Face's tokenizers (@huggingface/tokenizers)", () => {
  let tok: ByteLevelBPETokenizer;
  let dir: string;
  beforeAll(async () => {
    tok = ByteLevelBPETokenizer.train(corpus(), { vocabSize: 800, specialTokens: ['<|endoftext|>'], eosToken: '<|endoftext|>' });
    dir = mkdtempSync(join(tmpdir(), 'webgrad-hf-'));
    await tok.save(dir);
  });

  it('gives the same ids as ours on multilingual text, code and emoji', () => {
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    const hf = new HFLib(json, {});
    const text = MULTILINGUAL.join('\n') + '<|endoftext|>' + MULTILINGUAL[0];
    const ours = tok.encode(text);
    expect(hf.encode(text).ids).toEqual(ours);
    for (const s of MULTILINGUAL) expect(hf.encode(s).ids).toEqual(tok.encode(s));
    const rng = new SeededRandom(7);
    for (let i = 0; i < 200; i++) {
      const s = randomText(rng, 40);
      expect(hf.encode(s).ids).toEqual(tok.encode(s));
    }
  });

  it('HFTokenizer wraps it behind the same interface, with exact decode', async () => {
    const hf = await HFTokenizer.load(dir);
    expect(hf.vocabSize).toBe(tok.vocabSize);
    expect(hf.eosId).toBe(tok.eosId);
    expect(hf.specialIds).toEqual([0]);
    for (const s of MULTILINGUAL) {
      const ids = hf.encode(s);
      expect(ids).toEqual(tok.encode(s));
      expect(hf.decode(ids)).toBe(s);
    }
    // transformers' clean-up (" ." → ".") is off unless the config asks for it.
    expect(hf.decode(hf.encode('a . b , c'))).toBe('a . b , c');
    expect(hf.decode([])).toBe('');
    expect(hf.decode(hf.encode('x<|endoftext|>y'), { skipSpecialTokens: true })).toBe('xy');
    expect(hf.tokenToId('<|endoftext|>')).toBe(0);
    expect(hf.idToToken(0)).toBe('<|endoftext|>');
    expect(() => hf.decode([99999])).toThrow(IndexError);
    const viaLoad = await loadTokenizer(join(dir, 'tokenizer.json'));
    expect(viaLoad).toBeInstanceOf(HFTokenizer);
    expect(viaLoad.encode('café')).toEqual(tok.encode('café'));
  });

  it('applies a TemplateProcessing post-processor we wrote (BOS / EOS)', () => {
    const t = ByteLevelBPETokenizer.train(corpus(2), { vocabSize: 300, bosToken: '<s>', eosToken: '</s>', addBosToken: true, addEosToken: true });
    const hf = HFTokenizer.fromJSON(t.toJSON(), t.toConfig());
    expect(hf.encode('hello there')).toEqual(t.encode('hello there'));
    expect(hf.encode('hello there', { addSpecialTokens: false })).toEqual(t.encode('hello there', { addSpecialTokens: false }));
    expect([hf.bosId, hf.eosId]).toEqual([t.bosId, t.eosId]);
    // Roles also come back from the template alone.
    const bare = HFTokenizer.fromJSON(JSON.stringify(t.toJSON()));
    expect([bare.bosId, bare.eosId]).toEqual([t.bosId, t.eosId]);
  });

  it("reads a tokenizer.json trained by HF's Rust library and gives its ids (fixture)", () => {
    const fx = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'hf_bpe.json'), 'utf8')) as { tokenizer: HFTokenizerJSON; cases: { text: string; ids: number[] }[] };
    const ours = ByteLevelBPETokenizer.fromJSON(fx.tokenizer);
    const hf = HFTokenizer.fromJSON(fx.tokenizer);
    expect(ours.vocabSize).toBe(420);
    expect(ours.eosId).toBe(0);
    for (const { text, ids } of fx.cases) {
      expect(ours.encode(text)).toEqual(ids);
      expect(hf.encode(text)).toEqual(ids);
      expect(ours.decode(ids)).toBe(text);
    }
    // Written back, the file holds the same vocabulary and merges.
    const back = ours.toJSON();
    expect(back.model.vocab).toEqual(fx.tokenizer.model.vocab);
    expect(back.model.merges).toEqual((fx.tokenizer.model.merges as [string, string][]).map(([a, b]) => `${a} ${b}`));
  });

  it('reports a tokenizer.json it cannot build', () => {
    expect(() => HFTokenizer.fromJSON({ model: { type: 'Nope' } } as never)).toThrow(DataError);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    return expect(loadTokenizer(bad)).rejects.toThrow(/not valid JSON/);
  });
});
