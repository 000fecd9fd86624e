import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';
import type { StructType } from '../src/layout.js';

interface HeaderTable {
  sizes: Record<string, number>;
  offsets: Record<string, number>;
  constants: Record<string, number>;
}
const header = createRequire(import.meta.url)('../build/Release/kvm_layouts.node') as HeaderTable;

/** Every member offset of a layout by `struct.member`, members of anonymous member structs as `struct.a.b`. */
function offsetsOf(layout: StructType<unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (l: StructType<unknown>, prefix: string, base: number) => {
    for (const f of l.fields) {
      out[`${prefix}${f.name}`] = base + f.offset;
      const inner = f.type as Partial<StructType<unknown>> | undefined;
      if (inner?.fields && inner.name === undefined)
        walk(inner as StructType<unknown>, `${prefix}${f.name}.`, base + f.offset);
    }
  };
  walk(layout, `${layout.name}.`, 0);
  return out;
}

const capName = (member: string) => `KVM_CAP_${member.replace(/(?<=[a-z0-9])(?=[A-Z])/g, '_').toUpperCase()}`;

describe('struct layouts match <linux/kvm.h>', () => {
  const layouts = Object.values(api.layouts);

  it('cover every struct the header table lists, and no other', () => {
    expect(Object.keys(api.layouts).sort()).toEqual(Object.keys(header.sizes).sort());
    expect(layouts.length).toBeGreaterThanOrEqual(40);
  });

  it.each(layouts.map((l) => [l.name, l] as const))('%s has the size of the C struct', (name, layout) => {
    expect(layout.size).toBe(header.sizes[name!]);
  });

  it.each(layouts.map((l) => [l.name, l] as const))('%s has every member at its C offset', (name, layout) => {
    const ours = offsetsOf(layout);
    const theirs = Object.fromEntries(
      Object.entries(header.offsets).filter(([k]) => k.startsWith(`${name}.`)),
    );
    expect(ours).toEqual(theirs);
  });

  it('lays the exit members of kvm_run where the exit reader reads them', () => {
    expect(api.kvm_run.offsetOf('io.port')).toBe(header.offsets['kvm_run.io.port']);
    expect(api.kvm_run.offsetOf('mmio.data')).toBe(header.offsets['kvm_run.mmio.data']);
    expect(api.kvm_run.offsetOf('debug.arch.pc')).toBe(
      header.offsets['kvm_run.debug.arch']! + header.offsets['kvm_debug_exit_arch.pc']!,
    );
  });
});

describe('numbers match <linux/kvm.h>', () => {
  it('every ioctl request number', () => {
    const names = Object.keys(api.ioctls);
    expect(names.length).toBeGreaterThanOrEqual(60);
    for (const name of names)
      expect([name, api.ioctls[name as api.IoctlName]]).toEqual([name, header.constants[name]]);
  });

  it('every exported KVM_* constant', () => {
    const names = Object.keys(api).filter(
      (k) => k.startsWith('KVM') && typeof (api as Record<string, unknown>)[k] === 'number',
    );
    expect(names.length).toBeGreaterThan(80);
    for (const name of names)
      expect([name, (api as Record<string, unknown>)[name]]).toEqual([name, header.constants[name]]);
  });

  it('every Cap member', () => {
    const members = Object.keys(api.Cap).filter((k) => Number.isNaN(Number(k)));
    expect(members.length).toBeGreaterThan(100);
    for (const m of members)
      expect([m, api.Cap[m as keyof typeof api.Cap]]).toEqual([m, header.constants[capName(m)]]);
  });
});
