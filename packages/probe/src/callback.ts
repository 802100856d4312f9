import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, StateError } from '@gradflow/core';
import { probe } from './probe.js';
import type { ProbeBatch, ProbeOptions } from './probe.js';
import type { ProbeReport, ProbeStatus } from './types.js';
import { alias } from './graph.js';

/**
 * A fixed-capacity FIFO: pushing beyond `capacity` drops the oldest entry.
 *
 * @example
 * ```ts
 * const history = new RingBuffer<number>(3);
 * for (const v of [1, 2, 3, 4, 5]) history.push(v);
 * if (history.toArray().join() !== '3,4,5' || history.last() !== 5 || history.size !== 3)
 *   throw new Error(history.toArray().join());
 * ```
 */
export class RingBuffer<T> {
  readonly capacity: number;
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new InvalidArgumentError('capacity', capacity, 'an integer >= 1');
    }
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity);
  }

  /** Appends `item`, dropping the oldest entry when full. */
  push(item: T): void {
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Number of entries kept (at most `capacity`). */
  get size(): number {
    return this.count;
  }

  /** Oldest first. */
  toArray(): T[] {
    return Array.from({ length: this.count }, (_, i) => this.items[(this.start + i) % this.capacity] as T);
  }

  /** The newest entry, or undefined when empty. */
  last(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.capacity];
  }
}

/** The compact per-layer numbers kept over time. */
export interface LayerRecord {
  /** Layer name (as in {@link LayerReport}). */
  name: string;
  /** L2 norm of the layer's weight gradient. */
  gradNorm: number | null;
  /** gradNorm / weightNorm. */
  gradToWeight: number | null;
  /**
   * Measured ||W_after - W_before|| / ||W_before|| over the training step just taken (null when
   * the step's weights were not captured, e.g. probing outside a training step).
   */
  updateToWeight: number | null;
  /** L2 norm of d loss / d output. */
  outputGradNorm: number | null;
  /** RMS of the layer's output. */
  activationRms: number | null;
  /** Fraction of dead units (ReLU-like outputs). */
  deadFraction: number | null;
  /** Fraction of saturated elements (sigmoid/tanh-like outputs). */
  saturatedFraction: number | null;
}

/** One probed step as kept by a {@link ProbeMonitor}: the verdict and per-layer numbers. */
export interface ProbeRecord {
  /** Training step (batch) counter, from 0. */
  step: number;
  /** Epoch (from `model.fit` callbacks), or null in a custom loop. */
  epoch: number | null;
  /** Milliseconds since the epoch (Date.now()). */
  time: number;
  /** Loss on the probe batch. */
  loss: number;
  /** The verdict's status. */
  status: ProbeStatus;
  /** The verdict's first bad layer. */
  firstBadLayer: string | null;
  /** Per-layer numbers. */
  layers: LayerRecord[];
}

/** Options of {@link probeMonitor}: the probe's options plus how often and how much to keep. */
export interface ProbeMonitorOptions extends ProbeOptions {
  /** Probe every `every` steps (default 100); step 0 is probed. */
  every?: number;
  /** Records kept (ring buffer; default 256): memory stays bounded however long training runs. */
  capacity?: number;
  /** Called with each full report and its compact record. */
  onReport?: (report: ProbeReport, record: ProbeRecord) => void | Promise<void>;
}

/**
 * Probes a model periodically during training and keeps the compact records in a ring buffer.
 * In a custom loop call `beforeStep()` before the optimizer step and `afterStep()` after it;
 * `probeCallback` wraps the same object for `model.fit`.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const optimizer = tf.train.sgd(0.1);
 * const monitor = probeMonitor(model, { x, y }, { every: 2, loss: 'categorical_crossentropy' });
 * for (let step = 0; step < 4; step++) {
 *   monitor.beforeStep();
 *   optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor)) as tf.Scalar);
 *   await monitor.afterStep(); // probes steps 0 and 2
 * }
 * const records = monitor.records();
 * if (records.map((r) => r.step).join() !== '0,2') throw new Error(JSON.stringify(records.map((r) => r.step)));
 * if (records[0]!.layers[0]!.updateToWeight === null) throw new Error('measured update/weight');
 * monitor.dispose();
 * optimizer.dispose();
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export class ProbeMonitor {
  readonly every: number;
  private readonly buffer: RingBuffer<ProbeRecord>;
  private step = 0;
  private snapshot: { variable: tf.Variable; before: tf.Tensor }[] | null = null;
  private disposed = false;
  epoch: number | null = null;

  constructor(
    private model: tf.LayersModel | null,
    private readonly batch: ProbeBatch | (() => ProbeBatch),
    private readonly options: ProbeMonitorOptions = {},
  ) {
    const every = options.every ?? 100;
    if (!Number.isInteger(every) || every < 1)
      throw new InvalidArgumentError('every', every, 'an integer >= 1');
    this.every = every;
    this.buffer = new RingBuffer(options.capacity ?? 256);
  }

  /** The model (set later by `model.fit` for callbacks). */
  setModel(model: tf.LayersModel): void {
    this.model = model;
  }

  private due(): boolean {
    return this.step % this.every === 0;
  }

  /** Before a training step: on probe steps, remember the weights (zero-copy aliases). */
  beforeStep(): void {
    if (this.disposed) throw new StateError('this probe monitor was disposed');
    if (!this.model || !this.due()) return;
    this.releaseSnapshot();
    this.snapshot = this.model.trainableWeights.map((w) => {
      const variable = w.read() as tf.Variable;
      return { variable, before: alias(variable) };
    });
  }

  /** After a training step: on probe steps, measure update/weight ratios and probe. */
  async afterStep(): Promise<ProbeRecord | null> {
    if (this.disposed) throw new StateError('this probe monitor was disposed');
    const model = this.model;
    if (!model) throw new StateError('the probe monitor has no model yet');
    const step = this.step++;
    if (step % this.every !== 0) return null;
    const updates = this.measureUpdates(model);
    const batch = typeof this.batch === 'function' ? this.batch() : this.batch;
    const report = await probe(model, batch, this.options);
    const record: ProbeRecord = {
      step,
      epoch: this.epoch,
      time: Date.now(),
      loss: report.loss,
      status: report.verdict.status,
      firstBadLayer: report.verdict.firstBadLayer,
      layers: report.layers.map((l) => ({
        name: l.name,
        gradNorm: l.gradNorm,
        gradToWeight: l.gradToWeight,
        updateToWeight: updates.get(l.name) ?? null,
        outputGradNorm: l.outputGradNorm,
        activationRms: l.activation?.rms ?? null,
        deadFraction: l.activation?.deadFraction ?? null,
        saturatedFraction: l.activation?.saturatedFraction ?? null,
      })),
    };
    this.buffer.push(record);
    if (this.options.onReport) await this.options.onReport(report, record);
    return record;
  }

  private measureUpdates(model: tf.LayersModel): Map<string, number> {
    const out = new Map<string, number>();
    const snap = this.snapshot;
    this.snapshot = null;
    if (!snap) return out;
    try {
      const byVar = new Map(snap.map((s) => [s.variable, s.before]));
      const rows: { name: string; parts: [tf.Tensor, tf.Tensor][] }[] = [];
      for (const layer of model.layers) {
        const parts: [tf.Tensor, tf.Tensor][] = [];
        for (const w of layer.trainableWeights) {
          const v = w.read() as tf.Variable;
          const before = byVar.get(v);
          if (before) parts.push([v, before]);
        }
        if (parts.length > 0) rows.push({ name: layer.name, parts });
      }
      if (rows.length === 0) return out;
      const packed = tf.tidy(() =>
        tf.stack(
          rows.flatMap((r) => [
            tf.addN(r.parts.map(([v, b]) => tf.sum(tf.square(tf.sub(v, b))))),
            tf.addN(r.parts.map(([, b]) => tf.sum(tf.square(b)))),
          ]),
        ),
      );
      const values = packed.dataSync();
      packed.dispose();
      rows.forEach((r, i) => {
        const d = values[2 * i]!;
        const w = values[2 * i + 1]!;
        if (w > 0) out.set(r.name, Math.sqrt(d / w));
      });
      return out;
    } finally {
      tf.dispose(snap.map((s) => s.before));
    }
  }

  /** Frees the pending weight snapshot (kept between `beforeStep` and `afterStep`). */
  releaseSnapshot(): void {
    if (this.snapshot) tf.dispose(this.snapshot.map((s) => s.before));
    this.snapshot = null;
  }

  /** The records kept, oldest first (at most `capacity`). */
  records(): ProbeRecord[] {
    return this.buffer.toArray();
  }

  /** Frees the weight snapshot, if any. */
  dispose(): void {
    this.releaseSnapshot();
    this.disposed = true;
  }
}

/**
 * A `ProbeMonitor` for a custom training loop.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * const optimizer = tf.train.sgd(0.1);
 * const monitor = probeMonitor(model, { x, y }, { every: 2, loss: 'categorical_crossentropy' });
 * for (let step = 0; step < 4; step++) {
 *   monitor.beforeStep();
 *   optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor)) as tf.Scalar);
 *   await monitor.afterStep(); // probes steps 0 and 2
 * }
 * const records = monitor.records();
 * if (records.map((r) => r.step).join() !== '0,2') throw new Error(JSON.stringify(records.map((r) => r.step)));
 * if (records[0]!.layers[0]!.updateToWeight === null) throw new Error('measured update/weight');
 * monitor.dispose();
 * optimizer.dispose();
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function probeMonitor(
  model: tf.LayersModel,
  batch: ProbeBatch | (() => ProbeBatch),
  options: ProbeMonitorOptions = {},
): ProbeMonitor {
  return new ProbeMonitor(model, batch, options);
}

/** Options of {@link probeCallback}: the monitor's options plus the batch to probe on. */
export interface ProbeCallbackOptions extends ProbeMonitorOptions {
  /**
   * The batch to probe on (fit callbacks do not see the training batch): a fixed batch, or a
   * function returning one (the probe does not dispose it).
   */
  batch: ProbeBatch | (() => ProbeBatch);
}

/**
 * A `tf.Callback` for `model.fit` that probes every `every` batches, measuring the real
 * update/weight ratio of the step it sits on. `callback.monitor.records()` holds the history.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
 * const statuses: string[] = [];
 * const cb = probeCallback({ batch: { x, y }, every: 2, onReport: (r) => void statuses.push(r.verdict.status) });
 * await model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: [cb], verbose: 0 }); // 4 batches
 * if (statuses.length !== 2 || cb.monitor.records().length !== 2) throw new Error(statuses.join());
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export class ProbeCallback extends tf.Callback {
  readonly monitor: ProbeMonitor;

  constructor(options: ProbeCallbackOptions) {
    super();
    if (!options || options.batch === undefined) {
      throw new InvalidArgumentError(
        'options.batch',
        undefined,
        'a { x, y } batch (or a function returning one) to probe on',
      );
    }
    this.monitor = new ProbeMonitor(null, options.batch, options);
  }

  override setModel(model: Parameters<tf.Callback['setModel']>[0]): void {
    super.setModel(model);
    this.monitor.setModel(model as tf.LayersModel);
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.monitor.epoch = epoch;
  }

  override async onBatchBegin(): Promise<void> {
    this.monitor.beforeStep();
  }

  override async onBatchEnd(): Promise<void> {
    await this.monitor.afterStep();
  }

  override async onTrainEnd(): Promise<void> {
    this.monitor.releaseSnapshot();
  }
}

/**
 * A {@link ProbeCallback} for `model.fit`.
 *
 * @example
 * ```ts
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 8, activation: 'relu' }),
 *     tf.layers.dense({ units: 3, activation: 'softmax' }),
 *   ],
 * });
 * const x = tf.randomNormal([16, 4]);
 * const labels = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 3), 'int32');
 * const y = tf.oneHot(labels, 3);
 * labels.dispose();
 * model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
 * const statuses: string[] = [];
 * const cb = probeCallback({ batch: { x, y }, every: 2, onReport: (r) => void statuses.push(r.verdict.status) });
 * await model.fit(x, y, { epochs: 1, batchSize: 4, callbacks: [cb], verbose: 0 }); // 4 batches
 * if (statuses.length !== 2 || cb.monitor.records().length !== 2) throw new Error(statuses.join());
 * tf.dispose([x, y]);
 * model.dispose();
 * ```
 */
export function probeCallback(options: ProbeCallbackOptions): ProbeCallback {
  return new ProbeCallback(options);
}
