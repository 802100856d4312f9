import * as factories from './factories.js';

/**
 * Typed factories, one per registry name in camelCase, in the style of `tf.initializers.*`:
 * `init.heNormal({ mode: 'fan_out' })` is `resolveInitializer({ name: 'he_normal', mode: 'fan_out' })`
 * with the options type-checked. Aliases are there too (`init.kaimingNormal`, `init.xavierUniform`,
 * `init.eye`).
 *
 * @example
 * ```ts
 * const conv = tf.layers.conv2d({
 *   filters: 16,
 *   kernelSize: 3,
 *   kernelInitializer: init.heNormal({ mode: 'fan_out', nonlinearity: 'relu' }),
 *   biasInitializer: init.zeros(),
 * });
 * conv.apply(tf.input({ shape: [8, 8, 3] }));
 * const q = init.orthogonal({ gain: 2, seed: 0 }).apply([8, 8]);
 * if (init.kaimingNormal !== init.heNormal || !(init.dirac({ groups: 2 }) instanceof Dirac)) {
 *   throw new Error('unexpected');
 * }
 * q.dispose();
 * conv.dispose();
 * ```
 */
export const init = factories;
