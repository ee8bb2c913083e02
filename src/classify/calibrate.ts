/**
 * Temperature scaling (Guo et al., 2017): one scalar T divides every logit, chosen to minimise
 * the negative log-likelihood of held-out predictions. It leaves the ranking of categories
 * (hence accuracy) unchanged and makes the confidence mean what it says, which matters here
 * because narrowing decides from the confidence whether to trust the prediction.
 */

/** Mean NLL of `labels` under softmax(logits / t). */
export function nll(logits: Float32Array, labels: Int32Array, k: number, t: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const o = i * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[o + c]! / t);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(logits[o + c]! / t - max);
    total -= logits[o + labels[i]!]! / t - max - Math.log(sum);
  }
  return total / Math.max(1, labels.length);
}

/** The temperature minimising held-out NLL (golden-section search on log T over [1/20, 20]). */
export function fitTemperature(logits: Float32Array, labels: Int32Array, k: number): number {
  if (labels.length === 0) return 1;
  let lo = Math.log(1 / 20);
  let hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = nll(logits, labels, k, Math.exp(a));
  let fb = nll(logits, labels, k, Math.exp(b));
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = nll(logits, labels, k, Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = nll(logits, labels, k, Math.exp(b));
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Expected calibration error: |accuracy − confidence| averaged over `bins` equal-width
 * confidence bins, weighted by their counts. `probs` are calibrated probabilities.
 */
export function expectedCalibrationError(probs: Float32Array, labels: Int32Array, k: number, bins = 15): number {
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const acc = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
    const p = probs[i * k + best]!;
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]!++;
    conf[b]! += p;
    acc[b]! += best === labels[i] ? 1 : 0;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) ece += Math.abs(acc[b]! - conf[b]!);
  return ece / Math.max(1, labels.length);
}
