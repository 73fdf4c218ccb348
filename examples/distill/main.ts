// `pnpm example distill [flags]`: knowledge distillation on MNIST — a small MLP student trained on
// a teacher's softened outputs against the same student trained on the labels alone. See --help.
import { pathToFileURL } from 'node:url';
import { UsageError, parseFlags, usage, type FlagSpecs } from '../shared/args.js';
import { RunInterrupted } from '../shared/classifier_training.js';
import { releaseDevices } from '../shared/device.js';
import { DEFAULT_OPTIONS, distill, type DistillOptions, type DistillResult } from './distill.js';

const d = DEFAULT_OPTIONS;
export const FLAGS: FlagSpecs = {
  'temperature': { type: 'number', help: 'softening temperature T of both distributions', default: d.temperature, min: 0, exclusiveMin: true },
  'alpha': { type: 'number', help: 'weight of the soft-target term (1 - alpha: the labels)', default: d.alpha, min: 0, max: 1 },
  'epochs': { type: 'int', help: "epochs of each student's training", default: d.epochs, min: 1 },
  'batch-size': { type: 'int', help: 'digits per step', default: d.batchSize, min: 1 },
  'lr': { type: 'number', help: "Adam's initial learning rate (cosine decay to lr/20)", default: d.lr, min: 0, exclusiveMin: true },
  'student-hidden': { type: 'int', help: 'hidden width of the student MLP (784-N-10)', default: d.studentHidden[0], min: 1 },
  'teacher-model': { type: 'string', help: 'the teacher', choices: ['lenet', 'mlp'], default: d.teacherModel },
  'teacher-weights': { type: 'string', help: "the teacher's weights, used when made on the same split", default: 'runs/mnist/<teacher-model>/model.safetensors' },
  'teacher-epochs': { type: 'int', help: 'epochs of training the teacher when its weights are not there', default: d.teacherEpochs, min: 1 },
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'seed': { type: 'int', help: "seed of the students' shared initial weights and the batch order", default: d.seed },
  'out': { type: 'string', help: 'output directory', default: d.out },
};

const SUMMARY = 'Knowledge distillation on MNIST: a small MLP trained on a teacher\'s softened outputs vs. the same MLP on labels alone (same init, batches and steps).';

/** Options from command-line flags over the defaults. */
export function optionsFromArgv(argv: readonly string[]): DistillOptions & { help?: boolean } {
  const opts: DistillOptions & { help?: boolean } = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(parseFlags(argv, FLAGS))) {
    if (v === undefined) continue;
    if (k === 'studentHidden') opts.studentHidden = [v as number];
    else (opts as unknown as Record<string, unknown>)[k] = v;
  }
  return opts;
}

export async function main(argv: readonly string[]): Promise<DistillResult | null> {
  let opts: DistillOptions & { help?: boolean };
  try {
    opts = optionsFromArgv(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n\n${usage('pnpm example distill', SUMMARY, FLAGS)}`);
    process.exitCode = 2;
    return null;
  }
  if (opts.help) {
    console.log(usage('pnpm example distill', SUMMARY, FLAGS));
    return null;
  }
  try {
    return await distill(opts);
  } catch (e) {
    if (!(e instanceof RunInterrupted)) throw e;
    console.error(`interrupted: ${e.message}; the comparison needs every run to finish`);
    process.exitCode = 130;
    return null;
  } finally {
    await releaseDevices();
  }
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) await main(process.argv.slice(2));
