/**
 * Builds bzImage files from the header table of boot.rst, for tests that
 * need headers no kernel build produces. Independent of the loader's parser.
 */
import { pattern } from './elf-builder.js';

export interface TestBzImage {
  setupSects?: number;
  bootFlag?: number;
  /** Second byte of the jump at 0x200: the header ends at 0x202 + this. */
  headerLength?: number;
  magic?: number;
  version?: number;
  loadflags?: number;
  initrdAddrMax?: number;
  kernelAlignment?: number;
  relocatable?: number;
  minAlignment?: number;
  xloadflags?: number;
  cmdlineSize?: number;
  prefAddress?: bigint;
  initSize?: number;
  /** Protected-mode kernel bytes. */
  kernel?: Uint8Array;
  /** syssize in 16-byte units; default: the kernel's size rounded up. */
  syssize?: number;
  /** Cut the file to this many bytes. */
  truncate?: number;
}

export function buildBzImage(spec: TestBzImage = {}): Uint8Array {
  const setupSects = spec.setupSects ?? 4;
  const setupSize = ((setupSects === 0 ? 4 : setupSects) + 1) * 512;
  const kernel = spec.kernel ?? pattern(0x3000, 11);
  const out = new Uint8Array(setupSize + kernel.length);
  const view = new DataView(out.buffer);
  out[0x1f1] = setupSects;
  view.setUint32(0x1f4, spec.syssize ?? Math.ceil(kernel.length / 16), true);
  view.setUint16(0x1fa, 0xffff, true);
  view.setUint16(0x1fe, spec.bootFlag ?? 0xaa55, true);
  out[0x200] = 0xeb;
  out[0x201] = spec.headerLength ?? 0x6a;
  view.setUint32(0x202, spec.magic ?? 0x53726448, true);
  view.setUint16(0x206, spec.version ?? 0x020f, true);
  out[0x211] = spec.loadflags ?? 0x01;
  view.setUint32(0x214, 0x100000, true);
  view.setUint32(0x22c, spec.initrdAddrMax ?? 0x7fffffff, true);
  view.setUint32(0x230, spec.kernelAlignment ?? 0x200000, true);
  out[0x234] = spec.relocatable ?? 1;
  out[0x235] = spec.minAlignment ?? 21;
  view.setUint16(0x236, spec.xloadflags ?? 0x7f, true);
  view.setUint32(0x238, spec.cmdlineSize ?? 0x7ff, true);
  view.setBigUint64(0x258, spec.prefAddress ?? 0x1000000n, true);
  view.setUint32(0x260, spec.initSize ?? 0x800000, true);
  out.set(kernel, setupSize);
  return spec.truncate === undefined ? out : out.slice(0, spec.truncate);
}
