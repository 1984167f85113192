import type { ProgressEvent } from './types.js';

/** Often enough for a live bar, rare enough that SSE clients are not flooded. */
export const progressIntervalMs = 500;

/** Turns byte counts into progress events with a smoothed rate and an ETA. */
export class ProgressMeter {
  private rate = 0;
  private lastAt: number;
  private lastBytes: number;
  private lastEmit = 0;

  constructor(
    private readonly base: { source: string; file: string; total: number | null; startBytes: number },
    private readonly emit: (event: ProgressEvent) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.lastAt = now();
    this.lastBytes = base.startBytes;
  }

  setTotal(total: number | null): void {
    this.base.total = total;
  }

  update(bytes: number, done = false): void {
    const t = this.now();
    if (!done && t - this.lastEmit < progressIntervalMs) return;
    const dt = (t - this.lastAt) / 1000;
    if (dt > 0) {
      const instant = (bytes - this.lastBytes) / dt;
      // Exponential smoothing so one slow read does not make the ETA jump around.
      this.rate = this.rate === 0 ? instant : this.rate * 0.7 + instant * 0.3;
    }
    this.lastAt = t;
    this.lastBytes = bytes;
    this.lastEmit = t;
    const total = this.base.total;
    const eta = total !== null && this.rate > 0 ? Math.max(0, (total - bytes) / this.rate) : null;
    this.emit({
      source: this.base.source,
      file: this.base.file,
      bytes,
      total,
      rate: Math.round(this.rate),
      eta: done ? 0 : eta === null ? null : Math.round(eta),
      done,
    });
  }
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/**
 * One line for `kindling mirror sync`, e.g. "flatcar-stable  flatcar_production_image.bin.bz2  120.0 MiB / 480.0 MiB
 * 25%  11.2 MiB/s  ETA 0:32".
 */
export function formatProgress(event: ProgressEvent): string {
  const size =
    event.total !== null
      ? `${formatBytes(event.bytes)} / ${formatBytes(event.total)} ` +
        ` ${event.total > 0 ? Math.floor((event.bytes / event.total) * 100) : 100}%`
      : formatBytes(event.bytes);
  const tail = event.done
    ? 'done'
    : `${formatBytes(event.rate)}/s  ETA ${event.eta === null ? '?' : formatDuration(event.eta)}`;
  return `${event.source}  ${event.file}  ${size}  ${tail}`;
}
