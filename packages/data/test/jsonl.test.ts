// JSONL reading (errors with file and line, skipping), instruction and preference records, the
// Alpaca template and tokenization with loss on the response only.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValueError, type Tensor } from '@webgrad/core';
import {
  ALPACA_PROMPT_NO_INPUT, CharTokenizer, DataError, JsonlError, alpacaPrompt, padCollate, parseInstructionRecords, parseJsonl,
  parsePreferenceRecords, readInstructionRecords, readJsonl, readPreferenceRecords, tokenizeInstruction, tokenizePreference,
} from '@webgrad/data';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'webgrad-jsonl-'));
const write = (name: string, lines: string[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n'));
  return p;
};

describe('JSONL', () => {
  it('parses lines, ignoring blank ones, CRLF and a BOM', () => {
    const r = parseJsonl('\uFEFF{"a":1}\r\n\n  \n[2]\n"x"\n');
    expect(r).toEqual({ records: [{ a: 1 }, [2], 'x'], skipped: 0, errors: [] });
  });

  it('throws a JsonlError naming the source and line of a malformed line', () => {
    let err: unknown;
    try { parseJsonl('{"a":1}\n\n{"a":\n', { source: 'data.jsonl' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(JsonlError);
    expect(err).toBeInstanceOf(DataError);
    expect((err as JsonlError).line).toBe(3);
    expect((err as JsonlError).source).toBe('data.jsonl');
    expect((err as JsonlError).message).toMatch(/^data\.jsonl:3: invalid JSON/);
  });

  it('skips malformed lines when asked, counting them', () => {
    const r = parseJsonl('1\nnope\n2\n{\n3', { skipInvalid: true, schema: (v) => { if (typeof v !== 'number') throw new Error('not a number'); return v * 10; } });
    expect(r.records).toEqual([10, 20, 30]);
    expect(r.skipped).toBe(2);
    expect(r.errors.map((e) => e.line)).toEqual([2, 4]);
    expect(r.errors[0]!.reason).toMatch(/invalid JSON/);
    const s = parseJsonl('1\n"a"', { skipInvalid: true, schema: (v) => { if (typeof v !== 'number') throw new Error('not a number'); return v; } });
    expect(s.errors).toEqual([{ line: 2, reason: 'not a number' }]);
  });

  it('reads files (Node) with the path in errors', async () => {
    const p = write('x.jsonl', ['{"k":1}', '{"k":2}', 'oops']);
    await expect(readJsonl(p)).rejects.toThrow(`${p}:3: invalid JSON`);
    const r = await readJsonl<{ k: number }>(p, { skipInvalid: true });
    expect(r.records.map((x) => x.k)).toEqual([1, 2]);
    expect(r.skipped).toBe(1);
    await expect(readJsonl(join(dir, 'missing.jsonl'))).rejects.toThrow(/ENOENT/);
  });

  it('validates arguments', () => {
    expect(() => parseJsonl(3 as never)).toThrow(ValueError);
    expect(() => parseJsonl('', { skip: true } as never)).toThrow(/unknown option "skip"/);
    expect(() => parseJsonl('', { skipInvalid: 'yes' as never })).toThrow(/skipInvalid must be true or false/);
    expect(() => parseJsonl('', { schema: 1 as never })).toThrow(/schema must be a function/);
  });
});

describe('instruction and preference records', () => {
  it('reads instruction records, rejecting bad ones with their line', async () => {
    const p = write('alpaca.jsonl', [
      JSON.stringify({ instruction: 'Add the numbers.', input: '2 and 3', output: '5' }),
      JSON.stringify({ instruction: 'Say hi.', output: 'Hi!', extra: 1 }),
      JSON.stringify({ instruction: '', input: '', output: 'x' }),
      JSON.stringify({ instruction: 'Q', input: 3, output: 'x' }),
      JSON.stringify({ instruction: 'Q', input: '' }),
      '[1, 2]',
    ]);
    await expect(readInstructionRecords(p)).rejects.toThrow(`${p}:3: field "instruction" must not be empty`);
    const r = await readInstructionRecords(p, { skipInvalid: true });
    expect(r.records).toEqual([
      { instruction: 'Add the numbers.', input: '2 and 3', output: '5' },
      { instruction: 'Say hi.', input: '', output: 'Hi!' },
    ]);
    expect(r.skipped).toBe(4);
    expect(r.errors).toEqual([
      { line: 3, reason: 'field "instruction" must not be empty' },
      { line: 4, reason: 'field "input" must be a string, got number 3' },
      { line: 5, reason: 'missing field "output"' },
      { line: 6, reason: 'expected an { instruction, input, output } object, got an array' },
    ]);
    expect(() => parseInstructionRecords('{}', { schema: () => 1 } as never)).toThrow(/unknown option "schema"/);
  });

  it('reads preference records', async () => {
    const p = write('prefs.jsonl', [
      JSON.stringify({ prompt: 'Best color?', chosen: 'Blue.', rejected: 'Dunno' }),
      JSON.stringify({ prompt: 'P', chosen: 'same', rejected: 'same' }),
      JSON.stringify({ prompt: 'P', chosen: 'a' }),
    ]);
    await expect(readPreferenceRecords(p)).rejects.toThrow(`${p}:2: "chosen" and "rejected" are the same text`);
    const r = await readPreferenceRecords(p, { skipInvalid: true });
    expect(r.records).toEqual([{ prompt: 'Best color?', chosen: 'Blue.', rejected: 'Dunno' }]);
    expect(r.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(parsePreferenceRecords('{"prompt":"a","chosen":"b","rejected":"c"}', { source: 's' }).records).toHaveLength(1);
  });

  it('formats the Alpaca prompt with and without input', () => {
    const withInput = alpacaPrompt({ instruction: 'Translate.', input: 'Bonjour $1' });
    expect(withInput).toBe(
      'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate.\n\n### Input:\nBonjour $1\n\n### Response:',
    );
    const noInput = alpacaPrompt({ instruction: 'Say hi.', input: '' });
    expect(noInput).toBe(ALPACA_PROMPT_NO_INPUT.replace('{instruction}', 'Say hi.'));
    expect(noInput).not.toContain('### Input');
    expect(() => alpacaPrompt({} as never)).toThrow(ValueError);
  });

  it('tokenizes with labels only on the response, EOS appended, and pads to batches', () => {
    const rec = { instruction: 'Say hi.', input: '', output: 'Hi!' };
    const text = alpacaPrompt(rec) + rec.output;
    const tok = CharTokenizer.fromText(text, { eosToken: '<eos>', padToken: '<pad>' });
    const ex = tokenizeInstruction(rec, tok);
    const promptLen = alpacaPrompt(rec).length;
    expect(ex.inputIds).toHaveLength(promptLen + 4);
    expect(ex.inputIds[ex.inputIds.length - 1]).toBe(tok.eosId);
    expect(tok.decode(ex.inputIds)).toBe(text + '<eos>');
    expect(ex.labels.slice(0, promptLen).every((l) => l === -100)).toBe(true);
    expect(ex.labels.slice(promptLen)).toEqual(ex.inputIds.slice(promptLen));
    const cut = tokenizeInstruction(rec, tok, { maxLength: promptLen + 1 });
    expect(cut.inputIds).toEqual(ex.inputIds.slice(0, promptLen + 1));
    expect(cut.labels.filter((l) => l !== -100)).toHaveLength(1);
    const btok = CharTokenizer.fromText(text, { bosToken: '<s>', eosToken: '<eos>' });
    const withBos = tokenizeInstruction(rec, btok);
    expect(withBos.inputIds[0]).toBe(btok.bosId);
    expect(withBos.inputIds.slice(1)).toEqual(ex.inputIds.slice(0, -1).concat(btok.eosId!));
    expect(withBos.labels.filter((l) => l === -100)).toHaveLength(promptLen + 1);
    // Batched: labels padded with -100, the mask marks real tokens.
    const short = tokenizeInstruction({ instruction: 'Say hi.', input: '', output: 'H' }, tok);
    const batch = padCollate({ padValue: tok.padId })([ex, short], {}) as Record<string, Tensor>;
    const L = ex.inputIds.length;
    const labels = Array.from(batch.labels!.dataSync());
    expect(labels.slice(L, 2 * L)).toEqual([...short.labels, ...new Array(L - short.labels.length).fill(-100)]);
    expect(Array.from(batch.attentionMask!.dataSync()).slice(L).reduce((a, b) => a + b, 0)).toBe(short.inputIds.length);
    Object.values(batch).forEach((t) => t.dispose());
    expect(() => tokenizeInstruction(rec, CharTokenizer.fromText(text))).toThrow(/no EOS token/);
    expect(() => tokenizeInstruction(rec, tok, { maxLen: 3 } as never)).toThrow(/unknown option "maxLen"/);
    expect(() => tokenizeInstruction(rec, tok, { addBos: true })).toThrow(DataError);
  });

  it('tokenizes preference pairs with the prompt masked', () => {
    const rec = { prompt: 'Q: 2+2? A:', chosen: ' 4', rejected: ' 5!' };
    const tok = CharTokenizer.fromText(rec.prompt + rec.chosen + rec.rejected, { eosToken: '<eos>' });
    const t = tokenizePreference(rec, tok);
    expect(tok.decode(t.chosenInputIds)).toBe('Q: 2+2? A: 4<eos>');
    expect(tok.decode(t.rejectedInputIds)).toBe('Q: 2+2? A: 5!<eos>');
    expect(t.chosenLabels.filter((l) => l !== -100)).toHaveLength(3);
    expect(t.rejectedLabels.filter((l) => l !== -100)).toHaveLength(4);
  });
});
