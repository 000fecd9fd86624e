/**
 * The benchmark's summary: medians per metric and side, the ratios of this
 * project's medians to QEMU's and to the C baseline's, and whether each goal
 * is met; printed as a Markdown table, drawn as an SVG chart, and written
 * into the README between its results markers.
 */
import { METRICS, type MetricInfo, type Side } from './metrics.js';
import { median, pairedRatio } from './stats.js';
import type { Samples } from './suite.js';

export interface GoalOutcome {
  readonly text: string;
  readonly ratio: number;
  readonly met: boolean;
}

export interface MetricSummary extends MetricInfo {
  readonly samples: Partial<Record<Side, number[]>>;
  readonly median: Partial<Record<Side, number>>;
  /** This project's median over QEMU's. */
  readonly vsQemu?: number;
  /** This project's median over the C baseline's. */
  readonly vsC?: number;
  /** The median of the ratios of runs made back to back (drift in load cancels out of each). */
  readonly pairedVsQemu?: number;
  readonly goalOutcome?: GoalOutcome;
}

/** Where and when the numbers were taken. */
export interface MachineInfo {
  readonly date: string;
  readonly host: string;
  readonly cpu: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly qemu: string;
  /** 1-minute load average before and after the run: other work on the machine inflates every number. */
  readonly loadBefore: number;
  readonly loadAfter: number;
}

export interface BenchReport {
  readonly machine: MachineInfo;
  readonly config: Record<string, unknown>;
  readonly metrics: readonly MetricSummary[];
  readonly failures: readonly string[];
}

const finite = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);

/** Medians, ratios and goals from the samples. */
export function summarize(samples: Samples): MetricSummary[] {
  return METRICS.map((m) => {
    const s = samples[m.id] ?? {};
    const med: Partial<Record<Side, number>> = {};
    for (const side of ['reference', 'qemu', 'c'] as const) {
      const xs = s[side];
      if (xs && xs.length > 0) med[side] = median(xs);
    }
    const ref = med.reference;
    const vsQemu = finite(ref) && finite(med.qemu) && med.qemu > 0 ? ref / med.qemu : undefined;
    const vsC = finite(ref) && finite(med.c) && med.c > 0 ? ref / med.c : undefined;
    const paired = s.reference && s.qemu ? pairedRatio(s.reference, s.qemu) : Number.NaN;
    let goalOutcome: GoalOutcome | undefined;
    if (m.goal) {
      const ratio = m.goal.against === 'qemu' ? vsQemu : vsC;
      const base = m.goal.against === 'qemu' ? 'QEMU' : 'C';
      const text = `${m.goal.kind === 'min' ? '≥' : '≤'} ${m.goal.bound.toFixed(2)}× ${base}`;
      goalOutcome = {
        text,
        ratio: ratio ?? Number.NaN,
        met: finite(ratio) && (m.goal.kind === 'min' ? ratio >= m.goal.bound : ratio <= m.goal.bound),
      };
    }
    return {
      ...m,
      samples: s,
      median: med,
      ...(vsQemu === undefined ? {} : { vsQemu }),
      ...(vsC === undefined ? {} : { vsC }),
      ...(Number.isFinite(paired) ? { pairedVsQemu: paired } : {}),
      ...(goalOutcome ? { goalOutcome } : {}),
    };
  });
}

function num(x: number | undefined, digits: number): string {
  if (!finite(x)) return '–';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * The results as a Markdown table (one row per metric), its columns padded
 * as the repository's formatter pads them, so that a README that carries it
 * stays formatted.
 */
export function markdownTable(metrics: readonly MetricSummary[]): string {
  const header = ['metric', 'this VMM', 'QEMU', 'C baseline', 'this / QEMU', 'this / C', 'goal', 'met'];
  const right = [false, true, true, true, true, true, false, false];
  const rows = metrics.map((m) => {
    const g = m.goalOutcome;
    return [
      `${m.label} (${m.unit})`,
      num(m.median.reference, m.digits),
      num(m.median.qemu, m.digits),
      num(m.median.c, m.digits),
      num(m.vsQemu, 2),
      num(m.vsC, 2),
      g ? g.text : '–',
      g ? (g.met ? 'yes' : '**no**') : '–',
    ];
  });
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A one-line description of the machine and the run. */
export function machineLine(machine: MachineInfo, config: Record<string, unknown>): string {
  return (
    `${machine.date}, ${machine.host}: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, ` +
    `Node ${machine.node}, ${machine.qemu}; load average ${machine.loadBefore.toFixed(1)} before, ${machine.loadAfter.toFixed(1)} after; ` +
    `${config.repeats} repeats (Linux boot: ${config.bootRepeats}), medians`
  );
}

function chartSubtitle({ machine, config }: BenchReport): string {
  return (
    `${machine.date}, ${machine.cpus} × ${machine.cpu}, load average ${machine.loadBefore.toFixed(1)}–` +
    `${machine.loadAfter.toFixed(1)}; medians of ${config.repeats} repeats`
  );
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A bar chart of this project's ratio to QEMU (and to the C baseline for the
 * exit round trips) per metric, on a logarithmic axis centred on 1.0, so that
 * half as fast and twice as fast are bars of the same length. Green bars
 * meet their goal, red ones do not, grey ones have none.
 */
export function svgChart(report: BenchReport): string {
  const bars: { label: string; ratio: number; color: string }[] = [];
  for (const m of report.metrics) {
    const better = m.higherIsBetter ? 'higher is better' : 'lower is better';
    const color = (against: 'qemu' | 'c') =>
      m.goal?.against === against ? (m.goalOutcome?.met ? '#2e7d32' : '#c62828') : '#9e9e9e';
    if (finite(m.vsQemu))
      bars.push({ label: `${m.label} / QEMU (${better})`, ratio: m.vsQemu, color: color('qemu') });
    if (finite(m.vsC)) bars.push({ label: `${m.label} / C (${better})`, ratio: m.vsC, color: color('c') });
  }
  const left = 440;
  const width = 940;
  const rowH = 24;
  const top = 46;
  const bottom = top + rowH * bars.length;
  const height = bottom + 40;
  const decades = 4; // the axis spans 2^-4 .. 2^4
  const centre = left + (width - left - 20) / 2;
  const half = (width - left - 60) / 2;
  const x = (r: number) => centre + (Math.max(-decades, Math.min(decades, Math.log2(r))) / decades) * half;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">reference VMM relative to QEMU microvm and to a C baseline (1.0 = equal, log scale)</text>`,
    `<text x="10" y="36" fill="#555">${escapeXml(chartSubtitle(report))}</text>`,
  ];
  for (let e = -decades; e <= decades; e++) {
    const tx = x(2 ** e).toFixed(1);
    const label = e < 0 ? `1/${2 ** -e}` : String(2 ** e);
    parts.push(
      `<line x1="${tx}" y1="${top}" x2="${tx}" y2="${bottom}" stroke="${e === 0 ? 'black' : '#ddd'}"${e === 0 ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${tx}" y="${bottom + 16}" text-anchor="middle" fill="#555">${label}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const end = x(b.ratio);
    const from = Math.min(centre, end);
    const labelX = end >= centre ? end + 4 : end - 4;
    parts.push(
      `<text x="${left - 8}" y="${y + 16}" text-anchor="end">${escapeXml(b.label)}</text>`,
      `<rect x="${from.toFixed(1)}" y="${y + 4}" width="${Math.max(1, Math.abs(end - centre)).toFixed(1)}" height="${rowH - 8}" fill="${b.color}"/>`,
      `<text x="${labelX.toFixed(1)}" y="${y + 16}" text-anchor="${end >= centre ? 'start' : 'end'}">${b.ratio.toFixed(2)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

export const README_START = '<!-- bench:results:start -->';
export const README_END = '<!-- bench:results:end -->';

/** The README with the text between its results markers replaced by the latest results. */
export function updateReadme(readme: string, report: BenchReport): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start)
    throw new RangeError(`the README has no ${README_START} … ${README_END} section`);
  const goals = report.metrics.filter((m) => m.goalOutcome);
  const met = goals.filter((m) => m.goalOutcome!.met).map((m) => m.label);
  const missed = goals.filter((m) => !m.goalOutcome!.met).map((m) => m.label);
  const body = [
    README_START,
    '',
    `Latest run: ${machineLine(report.machine, report.config)}.`,
    '',
    markdownTable(report.metrics),
    '',
    `Goals met (${met.length} of ${goals.length}): ${met.join(', ') || 'none'}.`,
    `Goals not met: ${missed.join(', ') || 'none'}.`,
    ...(report.failures.length > 0
      ? ['', `Runs that failed: ${report.failures.length} (see the JSON).`]
      : []),
    '',
    README_END,
  ].join('\n');
  return readme.slice(0, start) + body + readme.slice(end + README_END.length);
}
