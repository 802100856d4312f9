/**
 * The in-browser playground: rebuilds the model on every control change, probes it at init
 * (verdict + per-layer gradient norms), and trains it on request, re-probing as it goes.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { listActivations } from '@gradflow/activations';
import { useWasmBackend } from '@gradflow/backend-wasm';
import { spirals } from '@gradflow/data';
import { listInitializers } from '@gradflow/initializers';
import { probe, type ProbeReport } from '@gradflow/probe';
import { gradientBars, lossCurve } from './charts.js';
import { playgroundModel, SHORTCUTS, type PlaygroundModelOptions } from './model.js';

const NORMS = ['none', 'batch_norm', 'layer_norm', 'rms_norm'];
const STEPS = 300;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Data {
  x: tf.Tensor;
  y: tf.Tensor;
  probeX: tf.Tensor;
  probeY: tf.Tensor;
}

let data: Data | undefined;
let model: tf.LayersModel | undefined;
let losses: number[] = [];
let generation = 0;

function fillSelect(id: string, options: readonly string[], selected: string): void {
  $<HTMLSelectElement>(id).innerHTML = options
    .map((o) => `<option${o === selected ? ' selected' : ''}>${o}</option>`)
    .join('');
}

function settings(): Omit<PlaygroundModelOptions, 'inputSize' | 'classes'> {
  return {
    depth: Number($<HTMLInputElement>('depth').value),
    width: Number($<HTMLSelectElement>('width').value),
    activation: $<HTMLSelectElement>('activation').value as PlaygroundModelOptions['activation'],
    initializer: $<HTMLSelectElement>('initializer').value as PlaygroundModelOptions['initializer'],
    norm: $<HTMLSelectElement>('norm').value as PlaygroundModelOptions['norm'],
    shortcut: $<HTMLSelectElement>('shortcut').value as PlaygroundModelOptions['shortcut'],
  };
}

async function loadData(name: string): Promise<Data> {
  if (name === 'mnist') {
    const raw = (await (await fetch('mnist-1000.json')).json()) as { pixels: string; labels: number[] };
    const bytes = Uint8Array.from(atob(raw.pixels), (c) => c.charCodeAt(0));
    const x = tf.tidy(() =>
      tf.tensor2d(bytes, [raw.labels.length, 784], 'float32').div(255).sub(0.13).div(0.31),
    );
    const y = tf.oneHot(tf.tensor1d(raw.labels, 'int32'), 10).toFloat();
    return { x, y, probeX: x.slice(0, 256), probeY: y.slice(0, 256) };
  }
  const set = spirals({ n: 600, classes: 2, seed: 1 });
  return { x: set.x, y: set.y, probeX: set.x.slice(0, 256), probeY: set.y.slice(0, 256) };
}

function render(report: ProbeReport): void {
  const section = $('verdict');
  section.dataset.status = report.verdict.status;
  $('verdict-status').textContent = report.verdict.status;
  $('verdict-summary').textContent = report.verdict.summary;
  $('verdict-advice').innerHTML = report.verdict.advice
    .map((a) => `<li>${a.replace(/</g, '&lt;')}</li>`)
    .join('');
  $('grad-chart').innerHTML = gradientBars(
    report.layers.filter((l) => l.gradNorm !== null).map((l) => ({ name: l.name, value: l.gradNorm })),
  );
}

const loss = (labels: tf.Tensor, logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits);

async function rebuild(): Promise<void> {
  const mine = ++generation;
  const dataset = $<HTMLSelectElement>('dataset').value;
  if (!data || data.x.shape[1] !== (dataset === 'mnist' ? 784 : 2)) {
    if (data) tf.dispose([data.x, data.y, data.probeX, data.probeY]);
    data = await loadData(dataset);
  }
  model?.dispose();
  losses = [];
  $('loss-chart').innerHTML = lossCurve(losses);
  section('probing…');
  model = playgroundModel({ ...settings(), inputSize: data.x.shape[1]!, classes: data.y.shape[1]! });
  const report = await probe(model, { x: data.probeX, y: data.probeY }, { loss, training: true });
  if (mine !== generation) return;
  render(report);
  // What the verdict on screen belongs to (the e2e test waits for the configuration it set).
  $('verdict').dataset.config =
    `${settings().activation}/${settings().initializer}/${settings().shortcut}/${settings().depth}`;
}

function section(text: string): void {
  $('verdict').dataset.status = 'pending';
  $('verdict-status').textContent = text;
  $('verdict-summary').textContent = '';
}

async function trainSteps(): Promise<void> {
  if (!model || !data) return;
  const mine = generation;
  const optimizer = tf.train.momentum(0.01, 0.9);
  const n = data.x.shape[0]!;
  let pending: tf.Tensor[] = [];
  for (let step = 0; step < STEPS && mine === generation; step++) {
    const idx = tf.tensor1d(
      Array.from({ length: 32 }, () => Math.floor(Math.random() * n)),
      'int32',
    );
    const value = tf.tidy(() => {
      const x = tf.gather(data!.x, idx);
      const y = tf.gather(data!.y, idx);
      return optimizer.minimize(
        () => loss(y, model!.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
      )!;
    });
    idx.dispose();
    pending.push(value);
    if (step % 25 === 24 || step === STEPS - 1) {
      // One read-back per 25 steps, when the charts redraw anyway.
      const stacked = tf.stack(pending);
      losses.push(...Array.from(await stacked.data()));
      tf.dispose([stacked, ...pending]);
      pending = [];
      $('loss-chart').innerHTML = lossCurve(losses);
      $('train-status').textContent = `step ${step + 1}/${STEPS}, loss ${losses.at(-1)!.toPrecision(3)}`;
      render(await probe(model, { x: data.probeX, y: data.probeY }, { loss, training: true }));
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  tf.dispose(pending);
  optimizer.dispose();
}

async function main(): Promise<void> {
  setWasmPaths(new URL('./', location.href).href);
  const info = await useWasmBackend();
  $('backend').textContent =
    `wasm, SIMD ${info.simd ? 'on' : 'off'}, ${info.kernelThreads} thread(s)${crossOriginIsolated ? ', cross-origin isolated' : ''}`;
  fillSelect('activation', listActivations(), 'relu');
  fillSelect('initializer', listInitializers(), 'he_normal');
  fillSelect('norm', NORMS, 'none');
  fillSelect('shortcut', SHORTCUTS, 'none');
  $('depth').addEventListener(
    'input',
    () => ($('depth-value').textContent = $<HTMLInputElement>('depth').value),
  );
  $('controls').addEventListener('change', () => void rebuild());
  $('train').addEventListener('click', () => void trainSteps());
  await rebuild();
  document.body.dataset.ready = 'true';
}

void main();
