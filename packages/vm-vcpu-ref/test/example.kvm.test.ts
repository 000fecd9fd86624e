import { readFileSync } from 'node:fs';
import { Kvm } from '@tsvmm/kvm-ioctls';
import { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';
import { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { describe, expect, it } from 'vitest';
import { enterLongMode } from '../examples/enter-long-mode.js';

describe('the README example', () => {
  it('is the code in examples/enter-long-mode.ts', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('../examples/enter-long-mode.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.slice(example.indexOf('import')).trim());
  });

  it.skipIf(!kvmAvailable)('runs a guest at its 64-bit entry', () => {
    using kvm = Kvm.open();
    using vm = kvm.createVm();
    vm.createIrqchip();
    using mem = GuestMemoryMmap.fromRanges([{ start: 0n, size: 2 << 20 }]);
    const region = mem.regions[0]!;
    vm.setUserMemoryRegion({
      slot: 0,
      flags: 0,
      guest_phys_addr: 0n,
      memory_size: BigInt(region.size),
      userspace_addr: region.hostAddress!,
    });
    // mov rax, rsi; out 0x10, eax
    mem.writeSlice(0x100000n, Uint8Array.from([0x48, 0x89, 0xf0, 0xe7, 0x10]));
    using vcpu = vm.createVcpu(0);
    enterLongMode(kvm, vcpu, mem, 0x100000n, 0x7000n);
    const exit = vcpu.run();
    expect(exit.kind).toBe('IoOut');
    if (exit.kind !== 'IoOut') return;
    expect(exit.port).toBe(0x10);
    expect(new DataView(exit.data.buffer, exit.data.byteOffset, 4).getUint32(0, true)).toBe(0x7000);
  });
});
