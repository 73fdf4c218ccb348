// Smoke test of the rlhf-ppo example at tiny sizes: the pipeline runs end to end (SFT, reward
// model, PPO), the reward-model score rises over the PPO iterations, the plot, the metrics and the
// summary are written; --help, a bad flag and --data work.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.js';

const root = mkdtempSync(join(tmpdir(), 'webgrad-rlhf-ppo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tiny = ['--sft-steps', '60', '--rm-steps', '40', '--prompts-per-batch', '16', '--eval-prompts', '64', '--eval-every', '3', '--ppo-epochs', '2'];

describe('rlhf-ppo example', () => {
  it('trains a policy against the reward model and reports the property, reward and KL', async () => {
    let text = '';
    const out = join(root, 'run');
    const r = await main([...tiny, '--iterations', '6', '--out', out], { stream: { write: (s: string) => { text += s; return true; } }, tty: false, fsync: false });
    expect(r).not.toBeNull();
    const h = r!.ppo.logHistory;
    expect(h).toHaveLength(6);
    const scores = h.map((x) => x['objective/scores'] as number);
    expect(scores.slice(-2).reduce((a, b) => a + b) / 2).toBeGreaterThan(scores.slice(0, 2).reduce((a, b) => a + b) / 2);
    for (const k of ['objective/kl', 'rewards/property/mean', 'val/num_eos_tokens']) expect(Number.isFinite(h[5]![k] as number), k).toBe(true);
    expect(r!.after.kl).toBeGreaterThan(0);
    expect(existsSync(join(out, 'training.svg')) && existsSync(join(out, 'ppo', 'train_metrics.jsonl'))).toBe(true);
    expect(readFileSync(join(out, 'training.svg'), 'utf8')).toContain('property rate');
    expect(text).toContain('| property rate (sorted digits + EOS) |');
  });

  it('trains on prompts from a JSONL file', async () => {
    const data = join(root, 'prompts.jsonl');
    writeFileSync(data, ['{"prompt": "3142:"}', '{"prompt": "9071:", "note": "ignored"}', '', '{"prompt": "5555:"}'].join('\n'));
    const out = join(root, 'data-run');
    const r = await main([...tiny, '--iterations', '1', '--data', data, '--out', out], { stream: { write: () => true }, tty: false, fsync: false });
    expect(r!.ppo.logHistory).toHaveLength(1);
    writeFileSync(data, '{"prompt": "ab:"}\n');
    await expect(main([...tiny, '--iterations', '1', '--data', data, '--out', out], { stream: { write: () => true }, tty: false, fsync: false })).rejects.toThrow(/prompts.jsonl:1: characters "ab"/);
  });

  it('prints its flags and rejects bad ones', async () => {
    expect(await main(['--help'])).toBeNull();
    const code = process.exitCode;
    expect(await main(['--kl-coef', '-1'])).toBeNull();
    expect(process.exitCode).toBe(2);
    process.exitCode = code;
  });
});
