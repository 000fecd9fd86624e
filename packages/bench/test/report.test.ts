import { describe, expect, it } from 'vitest';
import {
  type BenchReport,
  markdownTable,
  README_END,
  README_START,
  summarize,
  svgChart,
  updateReadme,
} from '../src/index.js';

const samples = {
  'blk-read': { reference: [900, 1100, 1000], qemu: [800, 820, 810] },
  'net-rx': { reference: [10, 12], qemu: [20, 22] },
  pio: { reference: [30, 31, 32], qemu: [50, 51, 52], c: [25, 26, 27] },
  memory: { reference: [80], qemu: [30] },
};

const report: BenchReport = {
  machine: {
    date: '2026-01-02T03:04:05Z',
    host: 'box',
    cpu: 'Some CPU',
    cpus: 2,
    memoryGiB: 24,
    kernel: '6.1.0',
    node: 'v20.0.0',
    qemu: 'QEMU 7.2',
    loadBefore: 1.5,
    loadAfter: 2.5,
  },
  config: { repeats: 3, bootRepeats: 1 },
  metrics: summarize(samples),
  failures: [],
};

describe('summarize', () => {
  it('takes medians, ratios to QEMU and to C, and judges each goal by its bound', () => {
    const byId = Object.fromEntries(report.metrics.map((m) => [m.id, m]));
    expect(byId['blk-read']).toMatchObject({
      median: { reference: 1000, qemu: 810 },
      goalOutcome: { met: true },
    });
    expect(byId['blk-read']!.vsQemu).toBeCloseTo(1000 / 810);
    expect(byId['net-rx']).toMatchObject({
      median: { reference: 11, qemu: 21 },
      goalOutcome: { met: false },
    });
    // Exit round trips are held to the C baseline: 31 / 26 = 1.19 > 1.10.
    expect(byId.pio!.vsC).toBeCloseTo(31 / 26);
    expect(byId.pio!.goalOutcome).toMatchObject({ text: '≤ 1.10× C', met: false });
    expect(byId.memory!.goalOutcome).toMatchObject({ text: '≤ 1.00× QEMU', met: false });
    // A metric without samples has no medians, and its goal is not met.
    expect(byId.rng!.median).toEqual({});
    expect(byId.rng!.goalOutcome?.met).toBe(false);
    expect(byId['linux-boot']!.goalOutcome).toBeUndefined();
  });
});

describe('the outputs', () => {
  it('a Markdown row per metric, dashes where there is nothing, columns padded to one width', () => {
    const lines = markdownTable(report.metrics).split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[1]).toMatch(/^\| -+ \| -+: \| -+: \| -+: \| -+: \| -+: \| -+ \| -+ \|$/);
    const table = lines.map((l) => l.replace(/ +/g, ' '));
    expect(table[0]).toBe('| metric | this VMM | QEMU | C baseline | this / QEMU | this / C | goal | met |');
    expect(table).toContain(
      '| virtio-blk sequential read (MB/s) | 1,000 | 810 | – | 1.23 | – | ≥ 1.00× QEMU | yes |',
    );
    expect(table).toContain('| virtio-rng (MB/s) | – | – | – | – | – | ≥ 1.00× QEMU | **no** |');
    expect(table).toHaveLength(2 + report.metrics.length);
  });

  it('an SVG with a bar per ratio and the line at 1.0', () => {
    const svg = svgChart(report);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // blk-read, net-rx, memory against QEMU; pio against QEMU and C.
    expect(svg.match(/<rect x="[\d.]+" y="\d+" width/g)).toHaveLength(5);
    expect(svg).toContain('>1</text>');
    expect(svg).toContain('>1/16</text>');
    expect(svg).toContain('medians of 3 repeats');
  });

  it('the README section between the markers, and nothing else, replaced', () => {
    const readme = `# title\n\nintro\n\n${README_START}\nold\n${README_END}\n\ntail\n`;
    const out = updateReadme(readme, report);
    expect(out.startsWith('# title\n\nintro\n\n')).toBe(true);
    expect(out.endsWith(`${README_END}\n\ntail\n`)).toBe(true);
    expect(out).not.toContain('\nold\n');
    expect(out).toContain('Latest run: 2026-01-02T03:04:05Z, box: 2 × Some CPU');
    expect(out).toContain('Goals met (1 of 10): virtio-blk sequential read.');
    expect(updateReadme(out, report)).toBe(out);
    expect(() => updateReadme('# no markers', report)).toThrow(RangeError);
  });
});
