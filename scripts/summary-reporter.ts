/**
 * Closes a test run with one plain line, `N passed, N failed, N skipped`, and
 * holds KVM tests to the project's rule: on a machine with /dev/kvm no test in
 * a `*.kvm.test.ts` file may be skipped (the run fails if one was); on a
 * machine without it, the run says loudly what it skipped.
 */
import { accessSync, constants } from 'node:fs';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

function kvmAvailable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const isKvmFile = (file: string): boolean => /\.(kvm|guest)\.test\.ts$/.test(file);

export default class SummaryReporter implements Reporter {
  /** A run narrowed with -t or file filters skips tests on purpose: those skips are not enforced. */
  #filtered = false;

  onInit(vitest: Vitest): void {
    const files = (vitest as unknown as { filenamePattern?: string[] }).filenamePattern ?? [];
    this.#filtered = Boolean(vitest.config.testNamePattern) || files.length > 0;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const kvmSkipped: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          if (isKvmFile(mod.moduleId)) kvmSkipped.push(`${mod.relativeModuleId} > ${test.fullName}`);
        }
      }
      if (mod.state() === 'failed' && mod.children.size === 0) failed++; // a file that failed to load
    }
    const out = process.stdout;
    if (kvmSkipped.length > 0) {
      if (this.#filtered) {
        out.write(`\n(${kvmSkipped.length} KVM/guest test(s) left out by the filter of this run)\n`);
      } else if (kvmAvailable()) {
        out.write(`\nFAIL: /dev/kvm is present but ${kvmSkipped.length} KVM/guest test(s) were skipped:\n`);
        for (const name of kvmSkipped) out.write(`  - ${name}\n`);
        failed += kvmSkipped.length;
        process.exitCode = 1;
      } else {
        out.write(
          `\n!!! /dev/kvm is not usable on this machine: ${kvmSkipped.length} KVM/guest test(s) were SKIPPED:\n`,
        );
        for (const name of kvmSkipped) out.write(`  - ${name}\n`);
      }
    }
    out.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
