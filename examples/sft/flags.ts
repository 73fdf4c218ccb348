// The sft example's command-line flags (shared with the lora example, which adds its own).
import type { FlagSpecs } from '../shared/args.js';
import { DEFAULT_OPTIONS } from './sft.js';

const d = DEFAULT_OPTIONS;
/** Flags of the fine-tuning, shared with the lora example. */
export const SFT_FLAGS: FlagSpecs = {
  'device': { type: 'string', help: 'where to train', choices: ['cpu', 'webgpu', 'auto'], default: d.device as string },
  'pretrained': { type: 'string', help: "pretrain-gpt's output directory (or a checkpoint directory) to start from", default: d.pretrained },
  'pretrain-steps': { type: 'int', help: 'steps of the pre-training run made when --pretrained holds no checkpoint', default: d.pretrainSteps },
  'data': { type: 'string', help: 'JSONL file of {instruction, input, output} records', default: 'generated tasks (written to <out>/data/)' },
  'eval-data': { type: 'string', help: 'JSONL file of held-out records', default: '10% of --data, or generated held-out tasks' },
  'train-examples': { type: 'int', help: 'generated training records', default: d.trainExamples },
  'eval-examples': { type: 'int', help: 'generated held-out records', default: d.evalExamples },
  'steps': { type: 'int', help: 'optimizer steps', default: d.steps },
  'lr': { type: 'number', help: 'peak learning rate', default: d.lr },
  'min-lr': { type: 'number', help: 'learning rate at the end of the cosine decay', default: d.minLr },
  'warmup': { type: 'int', help: 'linear warmup steps', default: d.warmup },
  'batch-size': { type: 'int', help: 'records per step', default: d.batchSize },
  'weight-decay': { type: 'number', help: 'AdamW weight decay (matrices only)', default: d.weightDecay },
  'grad-clip': { type: 'number', help: 'clip the global gradient norm (0: off)', default: d.gradClip },
  'eval-interval': { type: 'int', help: 'held-out loss and exact match every N steps', default: d.evalInterval },
  'seed': { type: 'int', help: 'seed of the library generator, the shuffles and the generated tasks', default: d.seed },
  'out': { type: 'string', help: 'output directory (data/, checkpoints/, metrics.jsonl, loss.svg, results.json)', default: d.out },
};
