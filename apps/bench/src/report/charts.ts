import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A chart of a report: a Vega-Lite spec, rendered to SVG in Node (no browser, no canvas). */
export interface Chart {
  /** File name without extension, unique within the report. */
  id: string;
  title: string;
  spec: TopLevelSpec;
}

export async function renderSvg(chart: Chart): Promise<string> {
  const view = new vega.View(vega.parse(compile(chart.spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface SeriesPoint {
  series: string;
  x: number;
  y: number;
}

/** Lines, one per series; `logY` for gradient norms, which span many orders of magnitude. */
export function lineChart(
  id: string,
  title: string,
  points: SeriesPoint[],
  axes: { x: string; y: string; logY?: boolean; width?: number },
): Chart {
  const finite = points.filter((p) => Number.isFinite(p.y) && (!axes.logY || p.y > 0));
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title,
      width: axes.width ?? 420,
      height: 240,
      data: { values: finite },
      mark: { type: 'line', point: finite.length <= 120 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: axes.x },
        y: {
          field: 'y',
          type: 'quantitative',
          title: axes.y,
          scale: axes.logY ? { type: 'log' } : { zero: false },
        },
        color: { field: 'series', type: 'nominal', title: null },
      },
    },
  };
}

export interface Bar {
  group: string;
  series: string;
  value: number;
}

/** Grouped horizontal bars (throughput per model and backend). */
export function barChart(
  id: string,
  title: string,
  bars: Bar[],
  axes: { value: string; logX?: boolean },
): Chart {
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title,
      width: 420,
      data: { values: bars.filter((b) => Number.isFinite(b.value) && b.value > 0) },
      mark: 'bar',
      encoding: {
        y: { field: 'group', type: 'nominal', title: null },
        yOffset: { field: 'series' },
        x: {
          field: 'value',
          type: 'quantitative',
          title: axes.value,
          scale: axes.logX ? { type: 'log' } : {},
        },
        color: { field: 'series', type: 'nominal', title: null },
      },
    },
  };
}
