// The baselines a trained model must beat, computed on the host from counts and arrays:
//   character LM   unigram and bigram models fitted on the training text (add-one smoothing),
//                  scored as mean negative log-likelihood per character on held-out text;
//   forecasting    the last value of the window, and seasonal naive (the value one period before
//                  the target), scored as MSE and MAE on held-out windows.

/** Mean NLL (nats/char) on `test` of the unigram distribution of `train`, add-one smoothed. */
export function unigramNll(train: Int32Array, test: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize).fill(1);
  for (const t of train) counts[t]!++;
  const total = train.length + vocabSize;
  let nll = 0;
  for (const t of test) nll -= Math.log(counts[t]! / total);
  return nll / test.length;
}

/** Entropy (nats) of the character distribution of `tokens`. */
export function entropy(tokens: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (const t of tokens) counts[t]!++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / tokens.length) * Math.log(c / tokens.length);
  return h;
}

/** Mean NLL (nats/char) on `test` of next-character bigram counts of `train`, add-one smoothed
 *  (the first test character is scored by the unigram model). */
export function bigramNll(train: Int32Array, test: Int32Array, vocabSize: number): number {
  const V = vocabSize;
  const pair = new Float64Array(V * V).fill(1); // pair[a·V + b]: b after a
  const ctx = new Float64Array(V).fill(V);
  for (let i = 1; i < train.length; i++) { pair[train[i - 1]! * V + train[i]!]!++; ctx[train[i - 1]!]!++; }
  let nll = unigramNll(train, test.subarray(0, 1), V);
  for (let i = 1; i < test.length; i++) nll -= Math.log(pair[test[i - 1]! * V + test[i]!]! / ctx[test[i - 1]!]!);
  return nll / test.length;
}

export interface ForecastErrors { mse: number; mae: number }

/** MSE and MAE of predictions against targets, both flat arrays of equal length. */
export function forecastErrors(pred: ArrayLike<number>, target: ArrayLike<number>): ForecastErrors {
  if (pred.length !== target.length || pred.length === 0) throw new RangeError(`forecastErrors: ${pred.length} predictions for ${target.length} targets`);
  let se = 0;
  let ae = 0;
  for (let i = 0; i < pred.length; i++) {
    const e = pred[i]! - target[i]!;
    se += e * e;
    ae += Math.abs(e);
  }
  return { mse: se / pred.length, mae: ae / pred.length };
}

/**
 * The naive forecasts of every window of `series` (W past values → the next K), in the order of
 * ForecastWindows with stride 1: the last value repeated, and seasonal naive, value t+k−P for the
 * target at t+k (needs K ≤ P ≤ W). Returns the predictions and targets as flat (N·K) arrays.
 */
export function naiveForecasts(series: Float32Array, window: number, horizon: number, period: number): { last: Float32Array; seasonal: Float32Array; target: Float32Array } {
  if (horizon > period || period > window) throw new RangeError(`naiveForecasts: seasonal naive needs horizon ≤ period ≤ window, got ${horizon}, ${period}, ${window}`);
  const n = series.length - window - horizon + 1;
  const [last, seasonal, target] = [0, 0, 0].map(() => new Float32Array(n * horizon)) as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < horizon; k++) {
      const t = i + window + k; // the target's position in the series
      last[i * horizon + k] = series[i + window - 1]!;
      seasonal[i * horizon + k] = series[t - period]!;
      target[i * horizon + k] = series[t]!;
    }
  }
  return { last, seasonal, target };
}
