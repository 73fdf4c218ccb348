// Evaluation metrics on plain arrays and strings (no tensors): classification (accuracy,
// precision/recall/F1, confusion matrix, ROC-AUC), language modelling (perplexity) and text
// generation (SQuAD EM/F1, BLEU, ROUGE).
export type { Label, LabelArray } from './labels.js';
export * from './classification.js';
export * from './roc_auc.js';
export * from './perplexity.js';
export * from './squad.js';
export * from './bleu.js';
export * from './rouge.js';
