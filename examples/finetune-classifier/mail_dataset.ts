// Labelled mails for the classifier: a sample of each part of the corpus split, read, cleaned
// and encoded as [CLS] text [SEP] (at most the encoder's sequence length), and their loaders —
// batches padded by padCollate to { inputIds (B, L), attentionMask (B, L), label (B) }.
import type { DeviceName, Tensor } from '@webgrad/core';
import { ArrayDataset, DataLoader, padCollate, type ByteLevelBPETokenizer } from '@webgrad/data';
import { readMailText, sampleMails, splitCorpus, type MailEntry } from '../shared/spam_assassin.js';
import { encodeForClassification } from '../pretrain-mlm/tokenizer.js';

export interface MailItem { inputIds: number[]; label: number }
export interface MailBatch { inputIds: Tensor; attentionMask: Tensor; label: Tensor }

export interface MailSplits { train: MailItem[]; val: MailItem[]; test: MailItem[] }

export interface MailSampleOptions {
  splitSeed: number;
  seed: number;
  train: number;
  val: number;
  test: number;
  maxChars: number;
  maxLen: number;
}

/** `n` mails of each part of the split (seeded), encoded. */
export function loadMailSplits(tok: ByteLevelBPETokenizer, o: MailSampleOptions): MailSplits {
  const split = splitCorpus(o.splitSeed);
  const encode = (entries: MailEntry[]) => entries.map((e) => ({ inputIds: encodeForClassification(tok, readMailText(e, { maxChars: o.maxChars }), o.maxLen), label: e.label }));
  return {
    train: encode(sampleMails(split.train, o.train, o.seed)),
    val: encode(sampleMails(split.val, o.val, o.seed)),
    test: encode(sampleMails(split.test, o.test, o.seed)),
  };
}

/** Batches of `items`, padded with `padId`; shuffled per epoch by `seed` when given. */
export function mailLoader(items: MailItem[], batchSize: number, padId: number, device: DeviceName, seed?: number): DataLoader<MailItem, MailBatch> {
  return new DataLoader<MailItem, MailBatch>(new ArrayDataset(items), {
    batchSize, shuffle: seed !== undefined, seed, device,
    collate: padCollate({ padValue: padId, labelsFromInputIds: false }) as unknown as (items: MailItem[]) => MailBatch,
  });
}

/** Fraction of spam (label 1). */
export const spamShare = (items: readonly MailItem[]): number => items.reduce((a, x) => a + x.label, 0) / Math.max(1, items.length);
