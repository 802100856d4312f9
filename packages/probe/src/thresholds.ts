/**
 * Thresholds of the verdict: one table, documented here and rendered in the README. Every
 * value can be overridden per call: `probe(model, batch, { thresholds: { deadFraction: 0.9 } })`.
 */
export interface Thresholds {
  /**
   * Vanishing: the back-propagated signal RMS(d loss / d output) of an input-side layer divided
   * by that of the reference layer (the last hidden weighted layer) falls below this.
   */
  vanishingRatio: number;
  /**
   * Exploding (backward): the same ratio rises above this.
   */
  explodingRatio: number;
  /**
   * Exploding (forward): the activation RMS of a later weighted layer divided by that of the
   * first weighted layer rises above this.
   */
  explodingActivationRatio: number;
  /** Saturated: a hidden sigmoid/tanh-like layer has at least this fraction of saturated units. */
  saturatedFraction: number;
  /** A unit is saturated when its local derivative is below this times the derivative's maximum. */
  saturationDerivativeRatio: number;
  /** Dead: a hidden ReLU-like layer has at least this fraction of units zero on the whole batch. */
  deadFraction: number;
  /** Update/weight ratio (lr * |g| / |w|) below this is reported as too slow (a note, not a status). */
  updateRatioLow: number;
  /** Update/weight ratio above this is reported as too fast (a note, not a status). */
  updateRatioHigh: number;
  /**
   * Dead units are only judged when each unit was seen at least this many times (batch size
   * times positions): a live unit firing half the time looks dead with probability 2^-n.
   */
  minDeadSamples: number;
  /** Depth analysis needs at least this many weighted layers (Dense, Conv, RNN, ...). */
  minDepth: number;
}

/**
 * The default verdict thresholds (their sources are in {@link THRESHOLD_SOURCES}). Override any
 * of them per call with the `thresholds` option of `probe`.
 *
 * @example
 * ```ts
 * if (DEFAULT_THRESHOLDS.vanishingRatio !== 1e-3 || !Object.isFrozen(DEFAULT_THRESHOLDS)) throw new Error('defaults');
 * const strict = { ...DEFAULT_THRESHOLDS, deadFraction: 0.1 }; // or probe(model, batch, { thresholds: { deadFraction: 0.1 } })
 * if (strict.deadFraction !== 0.1) throw new Error('override');
 * ```
 */
export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  vanishingRatio: 1e-3,
  explodingRatio: 1e3,
  explodingActivationRatio: 1e2,
  saturatedFraction: 0.5,
  saturationDerivativeRatio: 0.05,
  deadFraction: 0.5,
  updateRatioLow: 1e-5,
  updateRatioHigh: 1e-1,
  minDepth: 3,
  minDeadSamples: 8,
});

/**
 * Where each default comes from (rendered in the README table).
 *
 * @example
 * ```ts
 * const keys = Object.keys(THRESHOLD_SOURCES).sort().join();
 * if (keys !== Object.keys(DEFAULT_THRESHOLDS).sort().join()) throw new Error('one source per threshold');
 * if (!THRESHOLD_SOURCES.vanishingRatio.includes('Glorot & Bengio 2010')) throw new Error('source');
 * ```
 */
export const THRESHOLD_SOURCES: Readonly<Record<keyof Thresholds, string>> = Object.freeze({
  vanishingRatio:
    'Glorot & Bengio 2010 (back-propagated gradients shrink layer by layer); three orders of magnitude: one learning rate cannot serve both ends (Bengio, Simard & Frasconi 1994)',
  explodingRatio:
    'Pascanu, Mikolov & Bengio 2013 (exploding gradients); Philipp, Song & Carbonell 2018 (gradient scale coefficient grows exponentially with depth); symmetric to vanishingRatio',
  explodingActivationRatio:
    'He, Zhang, Ren & Sun 2015 section 2.2 and Hanin & Rolnick 2018 (the forward signal scale is a product over layers: it grows exponentially when the init gain is too large); two orders of magnitude, because a saturating output (softmax, sigmoid) then hides the backward explosion by clipping the loss gradient to zero',
  saturatedFraction:
    'Glorot & Bengio 2010 (top sigmoid layer saturating at 0 stalls learning); a majority of saturated units',
  saturationDerivativeRatio:
    "f' < 5% of sup f': sigmoid outside (0.013, 0.987), tanh with |y| > 0.975 (Glorot & Bengio 2010; LeCun et al. 1998 'Efficient BackProp')",
  deadFraction:
    'Lu, Shin, Su & Karniadakis 2019 "Dying ReLU and initialization" (a layer dead on all inputs stops training)',
  updateRatioLow:
    'Karpathy, CS231n "Neural Networks Part 3": update/weight ~ 1e-3; 100x lower learns too slowly',
  updateRatioHigh: 'Karpathy, CS231n: update/weight ~ 1e-3; 100x higher is unstable',
  minDepth: 'a ratio over depth needs depth',
  minDeadSamples:
    'a unit active with probability 1/2 is zero on n samples with probability 2^-n: 8 samples keep false alarms below 0.4% per unit',
});
