import * as tf from '@tensorflow/tfjs';
import { Rng } from '@gradflow/core';
import { backendsUnderTest, withBackend, type BackendName } from './backends.js';
import { compareClose, type Tolerance } from './numerics.js';

export interface LayerContractOptions {
  /** What is under test, for messages. */
  name: string;
  /** Builds the layer or block on a symbolic input (a functional builder or `layer.apply`). */
  build: (input: tf.SymbolicTensor) => tf.SymbolicTensor;
  /** Input shape without the batch dimension. */
  inputShape: number[];
  /** Batch size of the test input (default 2). */
  batchSize?: number;
  /** Expected output shape without the batch dimension. */
  outputShape?: number[];
  /** The test input (default: seeded uniform in [-1, 1)). */
  makeInput?: (shape: number[], rng: Rng) => tf.Tensor;
  /** Backends to run on and compare (default: `backendsUnderTest()`, i.e. cpu and wasm). */
  backends?: BackendName[];
  /** Tolerance of the wasm-vs-cpu comparison (default rtol 1e-4, atol 1e-5). */
  tolerance?: Tolerance;
  /**
   * Trainable weights (matched by name) that provably receive no gradient at init, such as the
   * branch of a ReZero block whose scalar starts at 0. Everything else must get a gradient.
   */
  zeroGradientAllowed?: RegExp;
  /** Run the gradient pass in training mode (default true: BatchNorm uses batch statistics). */
  training?: boolean;
  seed?: number;
}

export interface BackendRun {
  backend: BackendName;
  /** Inference-mode output. */
  output: Float32Array;
  /** Gradients of a fixed random projection of the training-mode output, per trainable weight name. */
  gradients: Map<string, Float32Array>;
}

export interface LayerContractResult {
  outputShape: (number | null)[];
  runs: BackendRun[];
  trainableWeightNames: string[];
}

/**
 * The contract every gradflow layer and block passes (Keras's `run_layer_test`, grown up):
 * output shape; every layer's config round-trips through its registered class; the model
 * round-trips through save/load with identical outputs; a gradient reaches every trainable
 * weight and is finite; every backend agrees with the first; and no tensor outlives the test.
 * Throws an `Error` describing the first violated clause.
 *
 * @example
 * ```ts
 * await runLayerContract({
 *   name: 'dense',
 *   inputShape: [4],
 *   outputShape: [3],
 *   build: (x) => tf.layers.dense({ units: 3 }).apply(x) as tf.SymbolicTensor,
 * });
 * ```
 */
export async function runLayerContract(options: LayerContractOptions): Promise<LayerContractResult> {
  const { name, batchSize = 2, training = true, seed = 1 } = options;
  const backends = options.backends ?? backendsUnderTest();
  const tolerance = { rtol: 1e-4, atol: 1e-5, ...options.tolerance };
  const fail = (clause: string, detail: string): never => {
    throw new Error(`[${name}] ${clause}: ${detail}`);
  };

  return withBackend(backends[0] ?? 'cpu', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const input = tf.input({ shape: options.inputShape });
    const model = tf.model({ inputs: input, outputs: options.build(input) });
    const rng = new Rng(seed);
    const xShape = [batchSize, ...options.inputShape];
    const x =
      options.makeInput?.(xShape, rng) ??
      tf.tensor(
        rng.fill(batchSize * size(options.inputShape), (r) => r.uniform(-1, 1)),
        xShape,
      );
    const outputShape = model.outputs[0]!.shape;
    const projection = tf.tensor(
      rng.fill(batchSize * size(outputShape.slice(1) as number[]), (r) => r.uniform(-1, 1)),
      [batchSize, ...(outputShape.slice(1) as number[])],
    );
    const snapshot = model.getWeights().map((w) => w.clone());
    let failed = false;

    try {
      if (
        options.outputShape &&
        JSON.stringify(outputShape.slice(1)) !== JSON.stringify(options.outputShape)
      ) {
        fail('output shape', `${JSON.stringify(outputShape)} != [null, ${options.outputShape.join(', ')}]`);
      }
      checkConfigRoundTrip(model, fail);
      await checkSaveLoadRoundTrip(model, x, fail);

      const trainableWeightNames = model.trainableWeights.map((w) => w.name);
      const runs: BackendRun[] = [];
      for (const backend of backends) {
        model.setWeights(snapshot);
        runs.push(await withBackend(backend, () => runOnBackend(model, x, projection, training, backend)));
      }
      const [reference, ...others] = runs;
      if (reference) {
        checkGradientsReachWeights(reference, trainableWeightNames, options.zeroGradientAllowed, fail);
        for (const run of others) {
          const out = compareClose(run.output, reference.output, tolerance);
          if (!out.ok) fail(`${run.backend} vs ${reference.backend} output`, out.message);
          for (const [weight, grad] of reference.gradients) {
            const cmp = compareClose(run.gradients.get(weight)!, grad, tolerance);
            if (!cmp.ok) fail(`${run.backend} vs ${reference.backend} gradient of ${weight}`, cmp.message);
          }
        }
      }
      return { outputShape, runs, trainableWeightNames };
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      tf.dispose([x, projection, ...snapshot]);
      model.dispose();
      const leaked = tf.memory().numTensors - tensorsBefore;
      // A clause that already failed may have left tensors behind; its error is the one to report.
      if (leaked !== 0 && !failed) fail('tensor leak', `${leaked} tensor(s) outlived the contract`);
    }
  });
}

function size(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

type Fail = (clause: string, detail: string) => never;

function checkConfigRoundTrip(model: tf.LayersModel, fail: Fail): void {
  const classes = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === 'InputLayer') continue;
    const entry = classes[className];
    if (!entry)
      fail(
        'config round-trip',
        `class '${className}' of layer '${layer.name}' is not registered with tf.serialization.registerClass`,
      );
    const [cls, fromConfig] = entry!;
    const a = JSON.stringify(layer.getConfig());
    // tfjs's fromConfig writes into the config it is given, so it gets a copy.
    const copy = fromConfig(cls, JSON.parse(a)) as tf.layers.Layer;
    const b = JSON.stringify(copy.getConfig());
    if (a !== b) fail('config round-trip', `layer '${layer.name}' (${className}): ${a} became ${b}`);
  }
}

async function checkSaveLoadRoundTrip(model: tf.LayersModel, x: tf.Tensor, fail: Fail): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  try {
    const [a, b] = tf.tidy(() => [model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor]);
    const cmp = compareClose(b!, a!, { rtol: 0, atol: 0 });
    tf.dispose([a!, b!]);
    if (!cmp.ok) fail('save/load round-trip', `reloaded model predicts differently: ${cmp.message}`);
  } finally {
    reloaded.dispose();
  }
}

function runOnBackend(
  model: tf.LayersModel,
  x: tf.Tensor,
  projection: tf.Tensor,
  training: boolean,
  backend: BackendName,
): BackendRun {
  const output = tf.tidy(() => model.predict(x) as tf.Tensor);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (variables.length === 0) {
    // Nothing to differentiate (tf.variableGrads rejects an empty list): the output is the result.
    const run = {
      backend,
      output: output.dataSync() as Float32Array,
      gradients: new Map<string, Float32Array>(),
    };
    output.dispose();
    return run;
  }
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(model.apply(x, { training }) as tf.Tensor, projection)) as tf.Scalar,
    variables,
  );
  const gradients = new Map<string, Float32Array>();
  model.trainableWeights.forEach((w, i) => {
    const g = grads[variables[i]!.name];
    gradients.set(w.name, g ? (g.dataSync() as Float32Array) : new Float32Array(0));
  });
  const run = { backend, output: output.dataSync() as Float32Array, gradients };
  tf.dispose([output, value, ...Object.values(grads)]);
  return run;
}

function checkGradientsReachWeights(
  run: BackendRun,
  names: string[],
  zeroAllowed: RegExp | undefined,
  fail: Fail,
): void {
  if (names.length === 0) return;
  for (const name of names) {
    const g = run.gradients.get(name)!;
    if (g.length === 0)
      fail(
        'gradient reaches every trainable weight',
        `no gradient for '${name}' (disconnected from the output)`,
      );
    if (g.some((v) => !Number.isFinite(v)))
      fail('finite gradients', `'${name}' has a non-finite gradient on ${run.backend}`);
    if (!zeroAllowed?.test(name) && g.every((v) => v === 0)) {
      fail(
        'gradient reaches every trainable weight',
        `gradient of '${name}' is identically zero on ${run.backend}`,
      );
    }
  }
}
