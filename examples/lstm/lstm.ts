// The lstm example as a function: pick the device, run the character language model and/or the
// forecasting task (each in its own subdirectory of `out`), and print the summary table. Shared
// settings (cell, hidden size, learning rate, steps) override both tasks' defaults; `charlm` and
// `forecast` set anything of one task.
import { join } from 'node:path';
import type { DeviceName } from '@webgrad/core';
import type { ProgressStream } from '@webgrad/train';
import { selectDevice, type DeviceChoice } from '../shared/device.js';
import { CHARLM_DEFAULTS, trainCharLm, type CharLmOptions, type CharLmResult } from './charlm.js';
import { FORECAST_DEFAULTS, trainForecaster, type ForecastOptions, type ForecastResult } from './forecast.js';
import type { Cell } from './models.js';
import { formatTable, summaryRows, type SummaryRow } from './summary.js';

export type Task = 'charlm' | 'forecast' | 'both';

export interface LstmOptions {
  task: Task;
  cell: Cell;
  device: DeviceChoice | DeviceName;
  seed: number;
  out: string;
  /** Character LM text: a file (default: the built-in generated verse) or the text itself. */
  data?: string;
  text?: string;
  /** Each overrides both tasks' default when given. */
  steps?: number;
  epochs?: number;
  hidden?: number;
  lr?: number;
  batchSize?: number;
  evalInterval?: number;
  resume?: boolean;
  /** Anything of one task. */
  charlm?: Partial<CharLmOptions>;
  forecast?: Partial<ForecastOptions>;
  stream?: ProgressStream;
  tty?: boolean;
  fsync?: boolean;
  handleSigint?: boolean;
}

export const DEFAULT_OPTIONS: LstmOptions = { task: 'both', cell: 'lstm', device: 'auto', seed: 1337, out: 'runs/lstm' };

export interface LstmResult {
  device: DeviceName;
  charlm?: CharLmResult;
  forecast?: ForecastResult;
  summary: SummaryRow[];
  wallSeconds: number;
}

/** The options both tasks take from the shared settings (undefined ones left out). */
function shared(o: LstmOptions, device: DeviceName, sub: string) {
  const given = { steps: o.steps, epochs: o.epochs, hidden: o.hidden, lr: o.lr, batchSize: o.batchSize, evalInterval: o.evalInterval };
  return {
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    device, cell: o.cell, seed: o.seed, out: join(o.out, sub), resume: o.resume,
    stream: o.stream, tty: o.tty, fsync: o.fsync, handleSigint: o.handleSigint,
  };
}

export async function runLstm(o: LstmOptions): Promise<LstmResult> {
  const t0 = performance.now();
  const stream = o.stream ?? process.stdout;
  const say = (s: string) => { stream.write(`${s}\n`); };
  const device: DeviceName = o.device === 'cpu' || o.device === 'webgpu' || o.device === 'auto' ? await selectDevice(o.device, say) : o.device;
  const result: LstmResult = { device, summary: [], wallSeconds: 0 };
  if (o.task === 'charlm' || o.task === 'both') {
    say('\n== task 1: character language model ==');
    result.charlm = await trainCharLm({ ...CHARLM_DEFAULTS, ...shared(o, device, 'charlm'), data: o.data, text: o.text, ...o.charlm });
  }
  if ((o.task === 'forecast' || o.task === 'both') && !result.charlm?.train.interrupted) {
    say('\n== task 2: sequence forecasting ==');
    result.forecast = await trainForecaster({ ...FORECAST_DEFAULTS, ...shared(o, device, 'forecast'), ...o.forecast });
  }
  result.summary = summaryRows(result.charlm, result.forecast);
  result.wallSeconds = (performance.now() - t0) / 1000;
  say(`\n== summary (${device}, seed ${o.seed}, ${result.wallSeconds.toFixed(1)} s in all) ==\n${formatTable(result.summary)}`);
  return result;
}
