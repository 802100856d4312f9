/** Tiny dependency-free SVG charts for the playground (the bench app's reports use Vega-Lite). */

const W = 640;
const H = 220;
const PAD = 36;

export function gradientBars(layers: { name: string; value: number | null }[]): string {
  const values = layers
    .map((l) => l.value)
    .filter((v): v is number => v !== null && v > 0 && Number.isFinite(v));
  if (values.length === 0) return '<p>no gradients</p>';
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi =
    Math.ceil(Math.log10(Math.max(...values))) + (Math.min(...values) === Math.max(...values) ? 1 : 0);
  const y = (v: number) => H - PAD - ((Math.log10(v) - lo) / (hi - lo)) * (H - 2 * PAD);
  const bw = (W - 2 * PAD) / layers.length;
  const bars = layers
    .map((l, i) => {
      if (l.value === null || !(l.value > 0)) return '';
      const top = y(l.value);
      return `<rect x="${PAD + i * bw + 1}" y="${top}" width="${Math.max(1, bw - 2)}" height="${H - PAD - top}" fill="#0b63ce"><title>${l.name}: ${l.value.toExponential(2)}</title></rect>`;
    })
    .join('');
  const ticks = Array.from({ length: hi - lo + 1 }, (_, k) => lo + k)
    .map(
      (e) =>
        `<text x="${PAD - 4}" y="${y(10 ** e) + 4}" text-anchor="end" font-size="10">1e${e}</text><line x1="${PAD}" x2="${W - PAD}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#eee"/>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="gradient norms">${ticks}${bars}</svg>`;
}

export function lossCurve(losses: number[]): string {
  const finite = losses.filter(Number.isFinite);
  if (finite.length < 2) return '<p>not trained yet</p>';
  const max = Math.max(...finite);
  const min = Math.min(0, ...finite);
  const x = (i: number) => PAD + (i / (losses.length - 1)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - ((v - min) / (max - min || 1)) * (H - 2 * PAD);
  const points = losses
    .map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : ''))
    .filter(Boolean)
    .join(' ');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="loss curve"><polyline fill="none" stroke="#cf222e" stroke-width="1.5" points="${points}"/><text x="${PAD}" y="${PAD - 8}" font-size="10">max ${max.toPrecision(3)}</text><text x="${PAD}" y="${H - 8}" font-size="10">step 1 … ${losses.length}</text></svg>`;
}
