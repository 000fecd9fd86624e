/**
 * What the benchmark measures, how each number is made from the guest's
 * report, and the goal it is held to.
 */

/** Who ran a sample: this project's VMM, QEMU, or the C baseline. */
export type Side = 'reference' | 'qemu' | 'c';

/** A goal: a bound on the ratio of this project's median to a baseline's. */
export interface Goal {
  /** What the ratio is taken against. */
  readonly against: 'qemu' | 'c';
  /** `min`: ratio ≥ bound (throughput); `max`: ratio ≤ bound (times, memory). */
  readonly kind: 'min' | 'max';
  readonly bound: number;
}

export interface MetricInfo {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  /** Whether a larger number is better. */
  readonly higherIsBetter: boolean;
  /** Decimal places to print. */
  readonly digits: number;
  /** The goal, when the issue set one. */
  readonly goal?: Goal;
}

const THROUGHPUT: Goal = { against: 'qemu', kind: 'min', bound: 1.0 };
const EXIT: Goal = { against: 'c', kind: 'max', bound: 1.1 };
const NOT_WORSE: Goal = { against: 'qemu', kind: 'max', bound: 1.0 };

export const METRICS: readonly MetricInfo[] = [
  {
    id: 'blk-read',
    label: 'virtio-blk sequential read',
    unit: 'MB/s',
    higherIsBetter: true,
    digits: 0,
    goal: THROUGHPUT,
  },
  {
    id: 'blk-write',
    label: 'virtio-blk sequential write',
    unit: 'MB/s',
    higherIsBetter: true,
    digits: 0,
    goal: THROUGHPUT,
  },
  {
    id: 'blk-rand',
    label: 'virtio-blk 4 KiB random read',
    unit: 'IOPS',
    higherIsBetter: true,
    digits: 0,
    goal: THROUGHPUT,
  },
  {
    id: 'net-tx',
    label: 'virtio-net transmit',
    unit: 'MB/s',
    higherIsBetter: true,
    digits: 1,
    goal: THROUGHPUT,
  },
  {
    id: 'net-rx',
    label: 'virtio-net receive',
    unit: 'MB/s',
    higherIsBetter: true,
    digits: 1,
    goal: THROUGHPUT,
  },
  { id: 'rng', label: 'virtio-rng', unit: 'MB/s', higherIsBetter: true, digits: 1, goal: THROUGHPUT },
  { id: 'pio', label: 'port-I/O exit round trip', unit: 'µs', higherIsBetter: false, digits: 2, goal: EXIT },
  { id: 'mmio', label: 'MMIO exit round trip', unit: 'µs', higherIsBetter: false, digits: 2, goal: EXIT },
  {
    id: 'startup',
    label: 'VMM start to first guest output',
    unit: 'ms',
    higherIsBetter: false,
    digits: 1,
    goal: NOT_WORSE,
  },
  {
    id: 'memory',
    label: 'VMM memory overhead (RSS − guest RAM)',
    unit: 'MiB',
    higherIsBetter: false,
    digits: 1,
    goal: NOT_WORSE,
  },
  {
    id: 'linux-boot',
    label: 'guest kit Linux boot to its marker',
    unit: 's',
    higherIsBetter: false,
    digits: 2,
  },
];

/** The number a workload's report stands for, in the metric's unit. */
export function workValue(metric: string, w: { ops: number; bytes: number; ns: number }): number {
  if (w.ns <= 0) return Number.NaN;
  switch (metric) {
    case 'blk-rand':
      return (w.ops / w.ns) * 1e9;
    case 'pio':
    case 'mmio':
      return w.ns / w.ops / 1000;
    default:
      return (w.bytes / w.ns) * 1000; // bytes per ns = GB/s
  }
}
