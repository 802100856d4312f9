/** Numbers for tables: 3 significant digits, scientific outside [1e-3, 1e5). */
export function fmt(value: number | string): string {
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e-3 && abs < 1e5) return Number(value.toPrecision(3)).toString();
  return value.toExponential(2);
}

export function markdownTable(columns: string[], rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map(fmt));
  const head = `| ${columns.join(' | ')} |`;
  const rule = `| ${columns.map(() => '---').join(' | ')} |`;
  return [head, rule, ...cells.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
