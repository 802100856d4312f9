/** The playground page's markup; app.ts fills the outputs. Ids are what the e2e test drives. */
export function playgroundBody(): string {
  return `<h1>Gradient-flow playground</h1>
<p>Build a deep network, see the gradient probe's verdict and every layer's gradient norm at
initialisation, then train it and watch both change. Everything runs in your browser on
TensorFlow.js's WASM SIMD backend with gradflow's kernels (<span id="backend">starting…</span>).</p>
<form id="controls" onsubmit="return false">
  <label>depth <input id="depth" type="range" min="2" max="40" value="20"> <output id="depth-value">20</output></label>
  <label>width <select id="width"><option>16</option><option selected>32</option><option>64</option><option>128</option></select></label>
  <label>activation <select id="activation"></select></label>
  <label>initializer <select id="initializer"></select></label>
  <label>normalization <select id="norm"></select></label>
  <label>shortcut <select id="shortcut"></select></label>
  <label>data <select id="dataset"><option value="spirals" selected>spirals (2 classes)</option><option value="mnist">MNIST (1,000 digits)</option></select></label>
  <button id="train" type="button">Train 300 steps</button>
</form>
<section id="verdict" data-status="pending" aria-live="polite"><strong id="verdict-status">…</strong> <span id="verdict-summary"></span><ul id="verdict-advice"></ul></section>
<figure><figcaption>Weight-gradient norm per layer (log scale), input side on the left</figcaption><div id="grad-chart"></div></figure>
<figure><figcaption>Training loss</figcaption><div id="loss-chart"></div><p id="train-status"></p></figure>
<style>
#controls { display: flex; flex-wrap: wrap; gap: .6em 1.2em; align-items: center; margin: 1em 0; }
#verdict { padding: .6em 1em; border-radius: 6px; background: #f6f8fa; border-left: 6px solid #8c959f; }
#verdict[data-status="healthy"] { border-color: #1a7f37; } #verdict[data-status="vanishing"], #verdict[data-status="exploding"], #verdict[data-status="nonfinite"] { border-color: #cf222e; }
#verdict[data-status="saturated"], #verdict[data-status="dead"] { border-color: #bf8700; }
</style>`;
}
