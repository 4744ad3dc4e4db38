/**
 * A small progress bar for the command line: one redrawn line on stderr with percentage, count,
 * rate and ETA, e.g.
 *
 *   mp_20/train  [##########··········]  48%  21890 rows  8123 rows/s  ETA 3s
 *
 * It stays silent where a redrawn line would be noise: when the stream is not a TTY (pipes,
 * log files, notebooks) or when the `CI` environment variable is set. Redraws are throttled
 * (10 per second) so that updating it per row costs nothing measurable.
 */

export interface ProgressBarOptions {
  /** Text before the bar, e.g. "mp_20/train". */
  label?: string;
  /** Unit shown after the count (default "rows"). */
  unit?: string;
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Force on/off; default: on only for a TTY outside CI. */
  enabled?: boolean;
  /** Bar width in characters (default 20). */
  width?: number;
}

/** A snapshot of progress; `fraction` is undefined when the total is unknown. */
export interface ProgressState {
  /** Items done (rows, steps, ...). */
  done: number;
  /** Fraction complete in [0, 1], if known (e.g. from bytes read / file size). */
  fraction?: number;
  /** Items per second since the start. */
  rate: number;
  /** Estimated seconds left, if the fraction is known and non-zero. */
  etaSeconds?: number;
  /** Seconds since the start. */
  elapsedSeconds: number;
}

/** True when a redrawn progress line makes sense on `stream`. */
export function progressEnabled(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env.CI;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly start = performance.now();
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(private readonly options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.enabled ?? progressEnabled(this.stream);
  }

  /** Progress state for `done` items and an optional known fraction. */
  state(done: number, fraction?: number): ProgressState {
    const elapsedSeconds = (performance.now() - this.start) / 1000;
    const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
    const f = fraction === undefined ? undefined : Math.min(1, Math.max(0, fraction));
    const etaSeconds = f !== undefined && f > 0 ? (elapsedSeconds * (1 - f)) / f : undefined;
    return { done, fraction: f, rate, etaSeconds, elapsedSeconds };
  }

  /** Reports progress; redraws at most every 100 ms. Returns the state it computed. */
  update(done: number, fraction?: number): ProgressState {
    const s = this.state(done, fraction);
    if (this.enabled && performance.now() - this.lastDraw >= 100) {
      this.lastDraw = performance.now();
      this.draw(s);
    }
    return s;
  }

  /** Draws the final state and moves to a new line. */
  finish(done: number): void {
    if (!this.enabled) return;
    this.draw(this.state(done, 1));
    this.stream.write("\n");
  }

  private draw(s: ProgressState): void {
    this.stream.write(`\r${formatProgressLine(s, this.options)}\x1b[K`);
    this.drawn = true;
  }

  /** True once something was drawn (for tests and callers that print after the bar). */
  get hasDrawn(): boolean {
    return this.drawn;
  }
}

/** The text of one progress line (pure: no I/O). */
export function formatProgressLine(s: ProgressState, options: Pick<ProgressBarOptions, "label" | "unit" | "width"> = {}): string {
  const width = options.width ?? 20;
  const unit = options.unit ?? "rows";
  const parts: string[] = [];
  if (options.label) parts.push(options.label);
  if (s.fraction !== undefined) {
    const filled = Math.round(s.fraction * width);
    parts.push(`[${"#".repeat(filled)}${"·".repeat(width - filled)}]`, `${Math.floor(s.fraction * 100)}%`.padStart(4));
  }
  parts.push(`${s.done} ${unit}`, `${formatRate(s.rate)} ${unit}/s`);
  if (s.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(s.etaSeconds)}`);
  return parts.join("  ");
}

function formatRate(rate: number): string {
  return rate >= 100 ? String(Math.round(rate)) : rate.toFixed(1);
}

/** "42s", "3m05s", "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
