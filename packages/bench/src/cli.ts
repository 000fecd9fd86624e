#!/usr/bin/env node
/**
 * `pnpm bench` (this package's `bench` script): runs the suite, prints the
 * table, writes results/bench-<date>.json and .svg (and latest.*), and puts
 * the table into README.md.
 *
 *   node dist/cli.js [--quick] [--repeats N] [--boot-repeats N] [--no-readme] [--out DIR]
 *
 * --quick: one small repeat, no Linux boots, README left alone (a smoke test).
 * Exits 1 if any run failed (its numbers are left out; the JSON lists why).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from './machine.js';
import { type BenchReport, machineLine, markdownTable, summarize, svgChart, updateReadme } from './report.js';
import { DEFAULT_CONFIG, QUICK_CONFIG, runSuite } from './suite.js';

const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    repeats: { type: 'string' },
    'boot-repeats': { type: 'string' },
    'no-readme': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});

function count(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`bench: --${flag} must be a whole number, got ${value}\n`);
    process.exit(2);
  }
  return n;
}

const base = values.quick ? QUICK_CONFIG : DEFAULT_CONFIG;
const workDir = mkdtempSync(join(tmpdir(), 'tsvmm-bench-'));
const config = {
  ...base,
  repeats: Math.max(1, count('repeats', values.repeats, base.repeats)),
  bootRepeats: count('boot-repeats', values['boot-repeats'], base.bootRepeats),
  workDir,
};
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const loadBefore = loadavg()[0]!;
let report: BenchReport;
try {
  const outcome = await runSuite(config, log);
  const { workDir: _, ...recorded } = config;
  report = {
    machine: machineInfo(loadBefore),
    config: recorded,
    metrics: summarize(outcome.samples),
    failures: outcome.failures,
  };
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

const outDir = values.out ?? join(PACKAGE_DIR, 'results');
mkdirSync(outDir, { recursive: true });
const stamp = report.machine.date.replace(/[:]/g, '-');
const json = `${JSON.stringify(report, null, 2)}\n`;
const svg = svgChart(report);
for (const name of [`bench-${stamp}`, 'latest']) {
  writeFileSync(join(outDir, `${name}.json`), json);
  writeFileSync(join(outDir, `${name}.svg`), svg);
}
if (!values.quick && !values['no-readme']) {
  const readme = join(PACKAGE_DIR, 'README.md');
  writeFileSync(readme, updateReadme(readFileSync(readme, 'utf8'), report));
}

process.stdout.write(
  `\n${machineLine(report.machine, report.config)}\n\n${markdownTable(report.metrics)}\n\n`,
);
process.stdout.write(`results: ${join(outDir, `bench-${stamp}.json`)} and .svg\n`);
if (report.failures.length > 0) {
  process.stdout.write(
    `\n${report.failures.length} run(s) failed:\n${report.failures.map((f) => `  - ${f}`).join('\n')}\n`,
  );
  process.exitCode = 1;
}
