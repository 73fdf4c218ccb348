// Smoke test of the CartPole example: a short run learns (returns rise well above a random
// policy's ~22) and writes its log and plot; --help works.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import { DEFAULTS, ppoCartPole } from './ppo_cartpole.js';

const out = mkdtempSync(join(tmpdir(), 'webgrad-ppo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('ppo-cartpole example', () => {
  it('learns within a few thousand steps', async () => {
    const r = await ppoCartPole({ ...DEFAULTS, totalSteps: 12_288, evalEpisodes: 10, out, stream: { write: () => true }, tty: false });
    const first = r.episodes.slice(0, 10).map(([, x]) => x), last = r.episodes.slice(-10).map(([, x]) => x);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(last)).toBeGreaterThan(2 * mean(first));
    expect(r.eval.meanReturn).toBeGreaterThan(60);
    expect(existsSync(join(out, 'metrics.jsonl')) && existsSync(join(out, 'returns.svg'))).toBe(true);
  });

  it('prints its flags', async () => {
    expect(await main(['--help'])).toBeNull();
  });
});
