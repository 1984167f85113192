import { constants, promises as fs } from 'node:fs';
import { writeFileAtomic } from '../store/atomic-file.js';
import {
  hostAddressConfirmSchema,
  hostAddressProblems,
  hostAddressRequestSchema,
  hostAddressStatusSchema,
  type HostAddressRequest,
  type HostAddressStatus,
} from './host-address-protocol.js';
import { deviceOf, deviceQuery, nmcliPlan } from './nmcli.js';

// The root side of "the Pi's own address" (host-address-protocol.ts): run by
// kindling-host-address.service when Kindling writes a request. The request and the
// confirmation sit in Kindling's own directory, writable by the unprivileged service,
// so they are read as hostile input: no symlinks, at most 4 KiB, parsed and checked
// again. The status goes to the helper's own runtime directory, which Kindling reads.

export interface HostAddressHelperOptions {
  requestFile: string;
  confirmFile: string;
  statusFile: string;
  /** The NetworkManager profile kindling-firstboot made, such as kindling-eth0. */
  connection: string;
  /** Runs nmcli with these arguments; resolves to its standard output, rejects with what it said. */
  nmcli: (args: string[]) => Promise<string>;
  restartKindling: () => Promise<void>;
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  pollMs?: number;
}

const maxFileBytes = 4096;

/** A small regular file of Kindling's, never through a symlink; null when absent. */
async function readUntrusted(file: string): Promise<string | null> {
  let handle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new Error(`${file} is a symbolic link; expected a file Kindling wrote`, { cause: err });
    throw err;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (stat.size > maxFileBytes) throw new Error(`${file} is ${stat.size} bytes; expected at most ${maxFileBytes}`);
    const buffer = Buffer.alloc(maxFileBytes + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > maxFileBytes) throw new Error(`${file} grew past ${maxFileBytes} bytes while read`);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

type Parsed = { ok: true; request: HostAddressRequest } | { ok: false; id: string; error: string };

function parseRequest(text: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, id: 'unknown', error: 'the request is not JSON' };
  }
  const parsed = hostAddressRequestSchema.safeParse(json);
  const id =
    typeof (json as { id?: unknown } | null)?.id === 'string'
      ? String((json as { id: string }).id).slice(0, 64)
      : 'unknown';
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, id, error: `the request's ${first?.path.join('.') || 'shape'}: ${first?.message}` };
  }
  const problems = hostAddressProblems(parsed.data);
  if (problems.length > 0) return { ok: false, id, error: problems.map((p) => p.message).join('; ') };
  return { ok: true, request: parsed.data };
}

async function lastStatus(file: string): Promise<HostAddressStatus | null> {
  try {
    const parsed = hostAddressStatusSchema.safeParse(JSON.parse(await fs.readFile(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Applies the request now, for this boot, then waits for its confirmation: confirmed, it
 * is saved into the profile (and kindling.service restarted when asked); not confirmed
 * in time, the saved profile comes back. Resolves to the final status, also on disk.
 * A request already answered (the path unit may fire twice) is left alone.
 */
export async function applyHostAddress(options: HostAddressHelperOptions): Promise<HostAddressStatus | null> {
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const write = async (status: Omit<HostAddressStatus, 'at'>): Promise<HostAddressStatus> => {
    const full = { ...status, at: clock().toISOString() };
    await writeFileAtomic(options.statusFile, `${JSON.stringify(full, null, 2)}\n`, 0o644);
    return full;
  };
  const failed = (id: string, request: HostAddressRequest | null, error: string) =>
    write({
      id,
      state: 'failed',
      method: request?.method ?? 'static',
      address: request?.address ?? null,
      deadline: null,
      device: null,
      error,
    });

  let text: string | null;
  try {
    text = await readUntrusted(options.requestFile);
  } catch (err) {
    return failed('unknown', null, (err as Error).message);
  }
  if (text === null) return null;
  const parsed = parseRequest(text);
  const previous = await lastStatus(options.statusFile);
  const id = parsed.ok ? parsed.request.id : parsed.id;
  if (previous?.id === id && previous.state !== 'applying') return previous;
  if (!parsed.ok) return failed(parsed.id, null, parsed.error);
  const request = parsed.request;

  const device = deviceOf(await options.nmcli(deviceQuery(options.connection)).catch(() => ''));
  if (!device)
    return failed(
      id,
      request,
      `no active NetworkManager connection "${options.connection}"; the address is set only on the ` +
        `connection kindling-firstboot made (docs/appliance.md)`,
    );
  const plan = nmcliPlan(request, options.connection, device);
  const base = { id, method: request.method, address: request.address, device, error: null };
  await write({ ...base, state: 'applying', deadline: null });
  try {
    await options.nmcli(plan.apply);
  } catch (err) {
    await options.nmcli(plan.revert).catch(() => undefined);
    return failed(id, request, `nmcli could not apply it, the saved address is back: ${(err as Error).message}`);
  }
  const deadline = new Date(clock().getTime() + request.confirmSeconds * 1000);
  await write({ ...base, state: 'waiting-confirm', deadline: deadline.toISOString() });

  while (clock() < deadline) {
    await sleep(options.pollMs ?? 1000);
    const confirm = await readUntrusted(options.confirmFile).catch(() => null);
    const parsedConfirm = confirm === null ? null : hostAddressConfirmSchema.safeParse(safeJson(confirm));
    if (!parsedConfirm?.success || parsedConfirm.data.id !== id) continue;
    try {
      await options.nmcli(plan.persist);
    } catch (err) {
      await options.nmcli(plan.revert).catch(() => undefined);
      return failed(id, request, `nmcli could not save it, the saved address is back: ${(err as Error).message}`);
    }
    if (!request.restartKindling) return write({ ...base, state: 'confirmed', deadline: null });
    const done = await write({ ...base, state: 'confirmed', deadline: null });
    // The address is saved either way; a failed restart only delays what kindling.yaml says.
    return options.restartKindling().then(
      () => done,
      (err: unknown) =>
        write({
          ...base,
          state: 'confirmed',
          deadline: null,
          error: `saved, but kindling.service did not restart (${(err as Error).message}); restart it by hand`,
        }),
    );
  }
  try {
    await options.nmcli(plan.revert);
  } catch (err) {
    return failed(id, request, `not confirmed in time, and nmcli could not go back: ${(err as Error).message}`);
  }
  return write({
    ...base,
    state: 'reverted',
    deadline: null,
    error: `not confirmed within ${request.confirmSeconds} s; the saved address is back`,
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
