// Smoke test of the rft-grpo example at tiny sizes: SFT then GRPO with the weighted reward run end
// to end, the reward rises over the iterations, accuracy and every reward component are reported
// before and after; the reward functions score by hand-checked cases; --help and --data work.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ADD_TASK, taskTokenizer } from '../shared/checkable_tasks.js';
import { main } from './main.js';
import { additionReward, rewardChecks } from './rewards.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-rft-grpo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tiny = ['--sft-steps', '120', '--prompts-per-batch', '8', '--num-generations', '4', '--eval-prompts', '64', '--eval-every', '5'];

describe('rft-grpo example', () => {
  it('scores completions with the weighted reward functions', async () => {
    const c = rewardChecks(ADD_TASK);
    expect([c.correct('12+30=', '42.'), c.correct('12+30=', '42'), c.correct('12+30=', '43.')]).toEqual([1, 0, 0]);
    expect([c.close('12+30=', '42.'), c.close('12+30=', '45.'), c.close('12+30=', '99.'), c.close('12+30=', '.')]).toEqual([1, 0.7, 0, 0]);
    expect([c.format('', '42.'), c.format('', '4242'), c.format('', '42.1')]).toEqual([1, 0, 0]);
    const tok = taskTokenizer();
    const ids = (s: string) => Array.from(tok.encode(s));
    const r = await additionReward(ADD_TASK, tok)({ prompts: [ids('12+30='), ids('12+30=')], completions: [ids('42.'), ids('45.')], promptIndex: [0, 1] });
    expect(r).toEqual({ scores: [1, 0.3 * 0.7 + 0.2], components: { correct: [1, 0], close: [1, 0.7], format: [1, 1] } });
  });

  it('raises the reward with GRPO and reports accuracy and each component before and after', async () => {
    let text = '';
    const out = join(root, 'run');
    const r = await main([...tiny, '--iterations', '10', '--out', out], { stream: { write: (s: string) => { text += s; return true; } }, tty: false, fsync: false });
    expect(r).not.toBeNull();
    const rewards = r!.grpo.logHistory.map((x) => x.reward as number);
    expect(rewards).toHaveLength(10);
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(avg(rewards.slice(-3))).toBeGreaterThan(avg(rewards.slice(0, 3)));
    for (const k of ['correct', 'close', 'format']) expect(Number.isFinite(r!.grpo.logHistory[9]![`rewards/${k}/mean`] as number), k).toBe(true);
    expect(Object.keys(r!.after.rewards).sort()).toEqual(['close', 'correct', 'format', 'reward']);
    expect(text).toContain('| accuracy, greedy decoding |');
    expect(existsSync(join(out, 'rewards.svg'))).toBe(true);
  });

  it('trains on prompts from a JSONL file; prints its flags; rejects bad ones', async () => {
    const data = join(root, 'prompts.jsonl');
    writeFileSync(data, '{"prompt": "12+30="}\n{"prompt": "07+41="}\n');
    const r = await main([...tiny, '--iterations', '1', '--prompts-per-batch', '2', '--data', data, '--out', join(root, 'data-run')], { stream: { write: () => true }, tty: false, fsync: false });
    expect(r!.grpo.logHistory).toHaveLength(1);
    expect(await main(['--help'])).toBeNull();
    const code = process.exitCode;
    expect(await main(['--num-generations', '1'])).toBeNull();
    expect(process.exitCode).toBe(2);
    process.exitCode = code;
  });
});
