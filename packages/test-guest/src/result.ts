/**
 * The test guest's results line, found in a VMM's console output and checked
 * field by field: the text comes from a guest, so anything malformed is
 * ignored (never thrown on), and numbers are only taken when they are exact.
 */

/** Every results line starts with this. */
export const RESULT_PREFIX = 'TSVMM-TEST-GUEST ';
/** The line the `idle` workload prints before it spins. */
export const IDLE_LINE = 'tsvmm-test-guest: idle';
/** The line the guest's first instructions print (kernel mode, right after the PVH entry). */
export const ENTRY_LINE = 'tsvmm-test-guest: entered';

/** A virtio-mmio device from the guest's command line, as the guest found it. */
export interface GuestDevice {
  /** `blk`, `net`, `rng`, `other`, or `none` when no virtio-mmio device answered at `base`. */
  readonly type: string;
  readonly base: bigint;
  readonly irq: number;
  /** The transport's Version register (2: virtio 1.x; 1: legacy). */
  readonly version: number;
}

/** One workload's outcome. */
export interface WorkResult {
  readonly work: string;
  readonly ok: boolean;
  /** Requests, packets or exits. */
  readonly ops: number;
  /** Payload bytes moved. */
  readonly bytes: number;
  /** Nanoseconds the measured part took (kvmclock). */
  readonly ns: number;
  /** Failed verifications, bad statuses, lost packets. */
  readonly errors: number;
  /** Why it failed, or a remark. */
  readonly note: string;
}

/** One conformance check. */
export interface ConformanceCheck {
  /** `<device><n>.<requirement>`, e.g. `blk0.read-used-len`. */
  readonly id: string;
  readonly ok: boolean;
  /** Got/want when it failed. */
  readonly message: string;
}

/** Where the guest faulted, when it did (`status: 'fault'`). */
export interface GuestFault {
  readonly vector: bigint;
  readonly error: bigint;
  readonly rip: bigint;
  readonly cs: bigint;
  readonly rsp: bigint;
  readonly cr2: bigint;
}

/** The parsed results line. */
export interface TestGuestResult {
  /** `ok`: every workload and check passed; `fail`: some did not; `error`: setup failed; `fault`: a CPU exception. */
  readonly status: 'ok' | 'fail' | 'error' | 'fault';
  /** The setup failure, for `error`. */
  readonly error?: string;
  readonly devices: readonly GuestDevice[];
  readonly results: readonly WorkResult[];
  readonly checks: readonly ConformanceCheck[];
  readonly fault?: GuestFault;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: Json | undefined): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const HEX = /^0x[0-9a-f]{1,16}$/;

function device(v: Json): GuestDevice | undefined {
  if (!isObj(v) || typeof v.type !== 'string' || typeof v.base !== 'string' || !HEX.test(v.base))
    return undefined;
  if (!isCount(v.irq) || !isCount(v.version)) return undefined;
  return { type: v.type, base: BigInt(v.base), irq: v.irq, version: v.version };
}

function work(v: Json): WorkResult | undefined {
  if (!isObj(v) || typeof v.work !== 'string' || typeof v.ok !== 'boolean' || typeof v.note !== 'string')
    return undefined;
  const { ops, bytes, ns, errors } = v;
  if (!isCount(ops) || !isCount(bytes) || !isCount(ns) || !isCount(errors)) return undefined;
  return { work: v.work, ok: v.ok, ops, bytes, ns, errors, note: v.note };
}

function checkEntry(v: Json): ConformanceCheck | undefined {
  if (!Array.isArray(v) || v.length !== 3) return undefined;
  const [id, ok, message] = v;
  if (typeof id !== 'string' || typeof ok !== 'boolean' || typeof message !== 'string') return undefined;
  return { id, ok, message };
}

function all<T>(v: Json | undefined, parse: (x: Json) => T | undefined): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: T[] = [];
  for (const x of v) {
    const parsed = parse(x);
    if (parsed === undefined) return undefined;
    out.push(parsed);
  }
  return out;
}

function fault(v: Obj): GuestFault | undefined {
  const keys = ['vector', 'error', 'rip', 'cs', 'rsp', 'cr2'] as const;
  const values: bigint[] = [];
  for (const k of keys) {
    const x = v[k];
    if (typeof x !== 'string' || !HEX.test(x)) return undefined;
    values.push(BigInt(x));
  }
  const [vector, error, rip, cs, rsp, cr2] = values as [bigint, bigint, bigint, bigint, bigint, bigint];
  return { vector, error, rip, cs, rsp, cr2 };
}

function parseLine(text: string): TestGuestResult | undefined {
  let v: Json;
  try {
    v = JSON.parse(text) as Json;
  } catch {
    return undefined;
  }
  if (!isObj(v) || v.v !== 1) return undefined;
  if (v.status === 'fault') {
    const f = fault(v);
    return f ? { status: 'fault', devices: [], results: [], checks: [], fault: f } : undefined;
  }
  if (v.status !== 'ok' && v.status !== 'fail' && v.status !== 'error') return undefined;
  if (v.error !== undefined && typeof v.error !== 'string') return undefined;
  if (v.status === 'error' && v.devices === undefined) {
    // The guest's fallback when its line would not fit: just the error.
    return typeof v.error === 'string'
      ? { status: 'error', error: v.error, devices: [], results: [], checks: [] }
      : undefined;
  }
  const devices = all(v.devices, device);
  const results = all(v.results, work);
  const checks = all(v.checks, checkEntry);
  if (!devices || !results || !checks) return undefined;
  return {
    status: v.status,
    ...(typeof v.error === 'string' ? { error: v.error } : {}),
    devices,
    results,
    checks,
  };
}

/**
 * The last well-formed results line in a console's text, or undefined if
 * there is none (yet). Lines may end in `\n` or `\r\n`; other output may
 * come before and after.
 */
export function parseTestGuestResult(consoleText: string): TestGuestResult | undefined {
  if (typeof consoleText !== 'string') throw new TypeError('consoleText must be a string');
  const lines = consoleText.split('\n');
  // The last line has no newline yet: it may still be arriving.
  for (let i = lines.length - 2; i >= 0; i--) {
    const line = lines[i]!.replace(/\r$/, '');
    const at = line.indexOf(RESULT_PREFIX);
    if (at < 0) continue;
    const parsed = parseLine(line.slice(at + RESULT_PREFIX.length));
    if (parsed) return parsed;
  }
  return undefined;
}
