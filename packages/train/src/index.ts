// @webgrad/train: the training loop and what it reports.
export {};
