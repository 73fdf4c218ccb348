// Unit tests of the example helpers: flags, tokenizer, corpus, batches, progress bar, SVG plot.
import { describe, expect, it } from 'vitest';
import { manualSeed } from '@webgrad/core';
import { UsageError, parseFlags } from './args.js';
import { BatchTrace } from './batch_trace.js';
import { getBatch, trainValSplit } from './batches.js';
import { CharTokenizer } from './char_tokenizer.js';
import { generateCorpus } from './corpus.js';
import { ProgressBar, formatDuration, lineChart, niceTicks } from '@webgrad/train';

describe('example helpers', () => {
  it('parses flags', () => {
    const specs = { 'n-layer': { type: 'int', help: '' }, lr: { type: 'number', help: '' }, full: { type: 'boolean', help: '' }, device: { type: 'string', help: '', choices: ['cpu', 'webgpu'] } } as const;
    expect(parseFlags(['--n-layer', '3', '--lr=1e-3', '--full', '--device', 'cpu'], specs)).toEqual({ nLayer: 3, lr: 1e-3, full: true, device: 'cpu' });
    expect(() => parseFlags(['--n-layer', '2.5'], specs)).toThrow(UsageError);
    expect(() => parseFlags(['--device', 'tpu'], specs)).toThrow(/one of cpu, webgpu/);
    expect(() => parseFlags(['--lr'], specs)).toThrow(/needs a value/);
  });

  it('tokenizes characters and generates a deterministic corpus', () => {
    const a = generateCorpus({ chars: 5000 });
    expect(a).toBe(generateCorpus({ chars: 5000 }));
    expect(a.length).toBeGreaterThanOrEqual(5000);
    expect(a).toMatch(/^[A-Z ]+:\n/);
    const tok = CharTokenizer.fromText(a);
    expect(tok.decode(tok.encode(a))).toBe(a);
    expect([...tok.chars]).toEqual([...tok.chars].sort());
    expect(() => tok.encode('\u00e9')).toThrow(RangeError);
  });

  it('draws shifted windows from the seeded generator', () => {
    const data = Int32Array.from({ length: 100 }, (_, i) => i);
    const { train, val } = trainValSplit(data);
    expect([train.length, val.length]).toEqual([90, 10]);
    manualSeed(5);
    const b1 = getBatch(train, 3, 8, 'cpu');
    manualSeed(5);
    const b2 = getBatch(train, 3, 8, 'cpu');
    const [x, y, x2] = [b1.x.dataSync(), b1.y.dataSync(), b2.x.dataSync()];
    expect(Array.from(x)).toEqual(Array.from(x2));
    for (let i = 0; i < x.length; i++) expect(y[i]).toBe(x[i]! + 1);
    // Offsets are where the windows start (data[i] = i here).
    expect(Array.from(b1.offsets)).toEqual([0, 1, 2].map((b) => x[b * 8]!));
    expect(Array.from(b1.offsets)).toEqual(Array.from(b2.offsets));
    for (const t of [b1.x, b1.y, b2.x, b2.y]) t.dispose();
  });

  it('traces batches: steps in order, evaluations grouped with the steps taken before them', () => {
    const t = new BatchTrace();
    t.evaluation('train', [1]); t.evaluation('train', [2]); t.evaluation('val', [3]); // step 0
    t.step([10, 11]);
    t.step([12, 13]);
    t.evaluation('train', [4]); t.evaluation('val', [5]); // step 2
    t.evaluation('train', [6]); t.evaluation('val', [7]); t.evaluation('val', [8]); // a second one at step 2
    const f = t.toJSON({ seed: 1 });
    expect(f.format).toBe('webgrad-batch-trace/1');
    expect(f.steps).toEqual([[10, 11], [12, 13]]);
    expect(f.evaluations).toEqual([
      { after: 0, batches: { train: [[1], [2]], val: [[3]] } },
      { after: 2, batches: { train: [[4]], val: [[5]] } },
      { after: 2, batches: { train: [[6]], val: [[7], [8]] } },
    ]);
    expect(f.run).toEqual({ seed: 1 });
  });

  it('progress: plain lines at intervals, one redrawn line on a TTY', () => {
    const plain: string[] = [];
    const bar = new ProgressBar({ total: 100, stream: { write: (s) => (plain.push(s), true) }, tty: false, plainEvery: 25 });
    bar.start();
    for (let s = 1; s <= 100; s++) bar.update({ step: s, loss: 1, lr: 1e-3, tokensPerSec: 1234 });
    expect(plain).toHaveLength(4);
    expect(plain[3]).toMatch(/^step 100\/100 \| loss 1\.0000 \| lr 1\.00e-3 \| 1\.2k tok\/s/);
    const tty: string[] = [];
    const bar2 = new ProgressBar({ total: 10, stream: { write: (s) => (tty.push(s), true), columns: 120 }, tty: true });
    bar2.update({ step: 5, loss: 2 });
    bar2.log('eval');
    expect(tty[0]).toMatch(/^\r\x1b\[2K\[█+░+\] step 5\/10/);
    expect(tty[1]).toContain('eval\n');
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('plots: nice ticks and a well-formed SVG', () => {
    expect(niceTicks(0, 2000)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(niceTicks(1.88, 4.2)).toEqual([1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
    const svg = lineChart([{ name: 'a<b', points: [[0, 1], [1, 2]] }], { title: 'T', xLabel: 'x', yLabel: 'y' });
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('a&lt;b');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });
});
