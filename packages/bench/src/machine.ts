/** What the machine is, for the record next to the numbers. */
import { execFileSync } from 'node:child_process';
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { QEMU_BIN } from '@tsvmm/test-guest';
import type { MachineInfo } from './report.js';

export function machineInfo(loadBefore: number): MachineInfo {
  let qemu = 'QEMU (version unknown)';
  try {
    qemu = execFileSync(QEMU_BIN, ['--version'], { encoding: 'utf8' })
      .split('\n')[0]!
      .replace(/^QEMU emulator version/, 'QEMU');
  } catch {
    // reported as unknown
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    host: hostname(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    qemu,
    loadBefore,
    loadAfter: loadavg()[0]!,
  };
}
