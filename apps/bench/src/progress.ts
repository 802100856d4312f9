/**
 * Terminal progress bars for long steps. On a TTY one line redraws in place; in a log (CI, a
 * pipe) a line is printed every 25% so the log stays short but shows the run is alive.
 */
export class Progress {
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  start(label: string, total: number): ProgressBar {
    return new ProgressBar(label, total, this.stream, this.tty);
  }

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }
}

export class ProgressBar {
  private done = 0;
  private lastQuarter = -1;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {
    this.render('');
  }

  tick(n = 1, info = ''): void {
    this.done = Math.min(this.total, this.done + n);
    this.render(info);
  }

  finish(info = ''): void {
    this.done = this.total;
    this.render(info, true);
  }

  private render(info: string, final = false): void {
    const fraction = this.total > 0 ? this.done / this.total : 1;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    if (this.tty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      const text = `  ${bar} ${String(Math.round(fraction * 100)).padStart(3)}% ${this.label} ${info} (${seconds}s)`;
      this.stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter > this.lastQuarter || final) {
      this.lastQuarter = quarter;
      this.stream.write(
        `  [${String(Math.round(fraction * 100)).padStart(3)}%] ${this.label} ${info} (${seconds}s)\n`,
      );
    }
  }
}
