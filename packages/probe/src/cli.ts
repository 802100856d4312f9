#!/usr/bin/env node
/**
 * gradflow-probe <zoo model name | path/to/model.json> [--batch N] [--data random|mnist]
 *   [--format table|json|html] [--out FILE] [--loss NAME] [--training] [--jacobian]
 *   [--backend cpu|wasm] [--seed N]
 */
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import {
  GradflowError,
  InvalidArgumentError,
  MissingResourceError,
  ShapeError,
  UnsupportedError,
} from '@gradflow/core';
import { formatTable, toHTML, toJSON } from './format.js';
import { LOSSES, resolveLossName } from './losses.js';
import { probe } from './probe.js';
import { compiledLossFunctions } from './validate.js';
import type { ProbeReport } from './types.js';

export interface CliOptions {
  target: string;
  batch: number;
  data: 'random' | 'mnist';
  format: 'table' | 'json' | 'html';
  out: string | null;
  loss: string | null;
  training: boolean;
  jacobian: boolean;
  backend: 'cpu' | 'wasm';
  seed: number;
}

export const USAGE = `usage: gradflow-probe <zoo model name | path/to/model.json> [options]
  --batch N                 examples in the probe batch (default 32)
  --data random|mnist       inputs: Gaussian noise with random labels, or MNIST digits via @gradflow/data
  --format table|json|html  output format (default table)
  --out FILE                write there instead of stdout
  --loss NAME               loss (default: the model's compiled loss, else inferred from the output layer)
  --training                forward pass in training mode (BatchNorm batch statistics)
  --jacobian                estimate the input-output Jacobian's mean squared singular value
  --backend cpu|wasm        tfjs backend (default cpu; wasm through @gradflow/backend-wasm)
  --seed N                  seed of the random batch (default 0)`;

function oneOf<T extends string>(flag: string, value: string | undefined, accepted: readonly T[]): T {
  if (value === undefined || !(accepted as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(flag, value, accepted.join(' | '));
  }
  return value as T;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = {
    target: '',
    batch: 32,
    data: 'random',
    format: 'table',
    out: null,
    loss: null,
    training: false,
    jacobian: false,
    backend: 'cpu',
    seed: 0,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new InvalidArgumentError(flag, undefined, 'a value');
      return v;
    };
    switch (flag) {
      case '--batch': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--batch', n, 'an integer >= 1');
        opts.batch = n;
        break;
      }
      case '--data':
        opts.data = oneOf('--data', value(), ['random', 'mnist'] as const);
        break;
      case '--format':
        opts.format = oneOf('--format', value(), ['table', 'json', 'html'] as const);
        break;
      case '--out':
        opts.out = value();
        break;
      case '--loss':
        opts.loss = value();
        break;
      case '--backend':
        opts.backend = oneOf('--backend', value(), ['cpu', 'wasm'] as const);
        break;
      case '--seed': {
        const n = Number(value());
        if (!Number.isInteger(n)) throw new InvalidArgumentError('--seed', n, 'an integer');
        opts.seed = n;
        break;
      }
      case '--training':
        opts.training = true;
        break;
      case '--jacobian':
        opts.jacobian = true;
        break;
      default:
        if (arg.startsWith('--'))
          throw new InvalidArgumentError('option', arg, 'one of the options in --help');
        positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    throw new InvalidArgumentError('model', positional, 'exactly one zoo model name or path to a model.json');
  }
  opts.target = positional[0]!;
  return opts;
}

/** Imports an optional package, turning "not installed" into a typed error that says what to do. */
async function optionalImport(specifier: string, why: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = e instanceof Error ? e.message : String(e);
    const missing =
      code === 'ERR_MODULE_NOT_FOUND' ||
      code === 'MODULE_NOT_FOUND' ||
      (message.includes(specifier) && /cannot find|failed to (load|resolve)|not found/i.test(message));
    if (missing) {
      throw new MissingResourceError(
        `${why} needs ${specifier}, which is not installed: npm install ${specifier}`,
        {
          value: specifier,
        },
      );
    }
    throw e;
  }
}

/** Loads a tfjs-layers `model.json` (+ its weight files) from disk, without tfjs-node. */
export async function loadModelFile(path: string): Promise<tf.LayersModel> {
  const file = resolve(path);
  if (!existsSync(file)) throw new MissingResourceError(`no model file at ${file}`, { value: file });
  const json = JSON.parse(await readFile(file, 'utf8')) as {
    modelTopology?: object;
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
    trainingConfig?: tf.io.TrainingConfig;
  };
  if (!json.modelTopology) {
    throw new InvalidArgumentError('model.json', file, 'a tfjs-layers model.json with a modelTopology');
  }
  // Custom layers of gradflow packages register themselves on import; they are optional here.
  for (const pkg of [
    '@gradflow/activations',
    '@gradflow/normalization',
    '@gradflow/residual',
    '@gradflow/dense',
    '@gradflow/unet',
    '@gradflow/recurrent',
  ]) {
    try {
      await import(pkg);
    } catch {
      // Not installed: models using its layers fail below with tfjs's "Unknown layer" message.
    }
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) chunks.push(new Uint8Array(await readFile(join(dirname(file), p))));
    specs.push(...group.weights);
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    data.set(c, offset);
    offset += c.byteLength;
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: data.buffer,
      ...(json.trainingConfig ? { trainingConfig: json.trainingConfig } : {}),
    }),
  );
}

/** Writes `model` as `dir/model.json` + `dir/weights.bin` (the layout `loadModelFile` reads). */
export async function saveModelFile(model: tf.LayersModel, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'model.json');
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const wd = artifacts.weightData;
      const buffers = wd === undefined ? [] : Array.isArray(wd) ? wd : [wd];
      const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
      await writeFile(join(dir, 'weights.bin'), bytes);
      const json = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(path, JSON.stringify(json));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: bytes.byteLength,
        },
      };
    }),
    // Keep the compiled loss (trainingConfig) when there is one, so the CLI probes with it.
    { includeOptimizer: model.optimizer != null },
  );
  return path;
}

/** A zoo model by name (through a dynamic import: @gradflow/zoo sits below the probe). */
export async function loadZooModel(name: string): Promise<tf.LayersModel> {
  const zoo = await optionalImport('@gradflow/zoo', `the zoo model '${name}'`);
  for (const fn of ['buildModel', 'createModel', 'getModel']) {
    const f = zoo[fn];
    if (typeof f === 'function')
      return (await (f as (n: string) => tf.LayersModel | Promise<tf.LayersModel>)(name)) as tf.LayersModel;
  }
  throw new UnsupportedError(
    '@gradflow/zoo does not export buildModel(name) / createModel(name); update @gradflow/zoo',
  );
}

export async function resolveModel(target: string): Promise<tf.LayersModel> {
  if (target.endsWith('.json') || existsSync(target)) return loadModelFile(target);
  return loadZooModel(target);
}

function outputActivation(model: tf.LayersModel): string | null {
  const last = model.outputs[0]?.sourceLayer;
  if (!last) return null;
  const cfg = last.getConfig() as { activation?: unknown };
  if (last.getClassName() === 'Softmax') return 'softmax';
  return typeof cfg.activation === 'string' ? cfg.activation : null;
}

/** The loss the CLI uses: --loss, else the compiled one, else from the output activation. */
export function cliLoss(model: tf.LayersModel, option: string | null): string | undefined {
  if (option !== null) return resolveLossName(option);
  const compiled = compiledLossFunctions(model);
  if (Array.isArray(compiled) && compiled.length > 0) return undefined;
  const act = outputActivation(model);
  if (act === 'softmax') return 'categorical_crossentropy';
  if (act === 'sigmoid') return 'binary_crossentropy';
  return 'mean_squared_error';
}

/** A probe batch for the model: random (seeded) or MNIST digits. */
export async function makeBatch(
  model: tf.LayersModel,
  options: Pick<CliOptions, 'batch' | 'data' | 'seed'>,
  loss: string | undefined,
) {
  const n = options.batch;
  if (options.data === 'mnist') {
    if (model.inputs.length !== 1) throw new UnsupportedError('--data mnist needs a single-input model');
    const data = await optionalImport('@gradflow/data', '--data mnist');
    const shape = model.inputs[0]!.shape;
    const flatten = shape.length === 2;
    const ok = flatten
      ? shape[1] === 784
      : shape.length === 4 && shape[1] === 28 && shape[2] === 28 && shape[3] === 1;
    if (!ok)
      throw new ShapeError('model input', shape, '[batch, 784] or [batch, 28, 28, 1] for --data mnist');
    const out = model.outputs[0]!.shape;
    if (out[out.length - 1] !== 10) throw new ShapeError('model output', out, '[batch, 10] for --data mnist');
    const mnist = data.mnist as (o: object) => {
      test: { x: tf.Tensor; y: tf.Tensor; size: number };
      dispose(): void;
    };
    const split = mnist({ flatten, limit: Math.max(20, Math.ceil(n / 0.2) + 10) });
    try {
      const take = Math.min(n, split.test.size);
      const x = tf.slice(split.test.x, 0, take);
      const y = tf.slice(split.test.y, 0, take);
      return { x, y };
    } finally {
      split.dispose();
    }
  }
  return tf.tidy(() => {
    const xs = model.inputs.map((inp, i) =>
      tf.randomNormal([n, ...inp.shape.slice(1).map((d) => d ?? 8)], 0, 1, 'float32', options.seed + i),
    );
    const ys = model.outputs.map((out, i) => {
      const shape = [n, ...out.shape.slice(1).map((d) => d ?? 8)];
      const classes = shape[shape.length - 1]!;
      const labels = loss === undefined ? null : LOSSES.has(loss) ? LOSSES.get(loss).labels : null;
      if (labels === 'probabilities' && classes > 1 && shape.length === 2) {
        const idx = tf.randomUniform([n], 0, classes, 'int32', options.seed + 100 + i);
        return tf.oneHot(idx, classes).cast('float32');
      }
      if (labels === 'probabilities')
        return tf.round(tf.randomUniform(shape, 0, 1, 'float32', options.seed + 100 + i));
      if (labels === 'indices')
        return tf.randomUniform([n], 0, classes, 'int32', options.seed + 100 + i).cast('float32');
      return tf.randomNormal(shape, 0, 1, 'float32', options.seed + 100 + i);
    });
    return { x: xs.length === 1 ? xs[0]! : xs, y: ys.length === 1 ? ys[0]! : ys };
  });
}

export function render(report: ProbeReport, format: CliOptions['format'], color: boolean): string {
  if (format === 'json') return `${toJSON(report)}\n`;
  if (format === 'html') return toHTML(report);
  return `${formatTable(report, { color })}\n`;
}

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  color?: boolean;
}

/** Runs the CLI; returns the exit code (0 healthy, 1 a problem was found, 2 usage or runtime error). */
export async function runCli(argv: readonly string[], io?: CliIO): Promise<number> {
  const out = io ?? {
    stdout: (s: string) => process.stdout.write(s),
    stderr: (s: string) => process.stderr.write(s),
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    out.stdout(`${USAGE}\n`);
    return 0;
  }
  let model: tf.LayersModel | undefined;
  try {
    const opts = parseArgs(argv);
    if (opts.backend === 'wasm') {
      const wasm = await optionalImport('@gradflow/backend-wasm', '--backend wasm');
      await (wasm.useWasmBackend as () => Promise<unknown>)();
    } else {
      await tf.setBackend('cpu');
    }
    await tf.ready();
    model = await resolveModel(opts.target);
    const loss = cliLoss(model, opts.loss);
    const batch = await makeBatch(model, opts, loss);
    let report: ProbeReport;
    try {
      report = await probe(model, batch, {
        ...(loss !== undefined ? { loss } : {}),
        training: opts.training,
        jacobian: opts.jacobian,
      });
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    const text = render(
      report,
      opts.format,
      opts.out === null && (io?.color ?? (process.stdout.isTTY && !process.env.NO_COLOR)),
    );
    if (opts.out !== null) {
      await writeFile(opts.out, opts.format === 'table' ? render(report, 'table', false) : text);
      out.stderr(`wrote ${opts.out} (${report.verdict.status})\n`);
    } else {
      out.stdout(text);
    }
    return report.verdict.status === 'healthy' ? 0 : 1;
  } catch (e) {
    if (e instanceof GradflowError) {
      out.stderr(`gradflow-probe: ${e.message}\n`);
      if (e instanceof InvalidArgumentError) out.stderr(`${USAGE}\n`);
      return 2;
    }
    out.stderr(`gradflow-probe: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  } finally {
    model?.dispose();
  }
}

const invoked = process.argv[1];
if (
  invoked !== undefined &&
  existsSync(invoked) &&
  import.meta.url === pathToFileURL(realpathSync(invoked)).href
) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
