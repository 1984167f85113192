export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function since(iso: string | null | undefined, now: number): string {
  if (!iso) return '';
  return duration((now - Date.parse(iso)) / 1000);
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString();
}

/** The issue message for one field, by its key path ("users.0.name"). */
export function issueAt(
  issues: Array<{ path: string[]; message: string }>,
  ...path: Array<string | number>
): string | undefined {
  const key = path.map(String).join('.');
  return issues.find((i) => i.path.join('.') === key)?.message;
}

/** Issues under a prefix that no field shows (so none is ever hidden). */
export function issuesUnder(
  issues: Array<{ path: string[]; message: string }>,
  shown: Set<string>,
): Array<{ path: string[]; message: string }> {
  return issues.filter((i) => !shown.has(i.path.join('.')));
}
