import { describe, expect, it } from 'vitest';
import {
  KVM_GUESTDBG_ENABLE,
  KVM_GUESTDBG_SINGLESTEP,
  KVM_INTERNAL_ERROR_EMULATION,
  type VcpuExit,
  type VcpuFd,
} from '../src/index.js';
import {
  createTestVm,
  enterLongModeUser,
  enterRealMode,
  TestGuestLayout as L,
  type TestVm,
} from '../src/testing/index.js';
import { kvmAvailable } from '../src/testing/kvm-available.js';
import {
  REAL_MODE_IO,
  REAL_MODE_LOAD,
  REAL_MODE_NOPS,
  REAL_MODE_STI_LOOP,
  USER_FETCH_MMIO,
  USER_IO,
  USER_UD2,
} from './guests.js';

/** A plain snapshot of an exit (exit objects are reused by the next run). */
function snap(exit: VcpuExit): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(exit)) out[k] = v instanceof Uint8Array ? [...v] : v;
  return out;
}

function realModeGuest(code: Uint8Array, ramSize = 0x1_0000): { t: TestVm; vcpu: VcpuFd } {
  const t = createTestVm({ ramSize });
  t.ram.set(code, REAL_MODE_LOAD);
  const vcpu = t.vm.createVcpu(0);
  enterRealMode(vcpu, REAL_MODE_LOAD);
  return { t, vcpu };
}

function userGuest(code: Uint8Array): { t: TestVm; vcpu: VcpuFd } {
  const t = createTestVm();
  t.ram.set(code, L.CODE);
  const vcpu = t.vm.createVcpu(0);
  enterLongModeUser(vcpu, t.ram, { entry: BigInt(L.CODE), stack: BigInt(L.STACK_TOP) });
  return { t, vcpu };
}

describe.skipIf(!kvmAvailable)('a real-mode guest', () => {
  it('exits for every port and MMIO access, and reads what the VMM wrote into kvm_run', () => {
    const { t, vcpu } = realModeGuest(REAL_MODE_IO);
    const seen: Record<string, unknown>[] = [];
    for (;;) {
      const exit = vcpu.run();
      if (exit.kind === 'IoIn') exit.data[0] = 0x5a;
      if (exit.kind === 'MmioRead') exit.data[0] = 0x77;
      seen.push(snap(exit));
      if (
        exit.kind !== 'IoIn' &&
        exit.kind !== 'IoOut' &&
        exit.kind !== 'MmioRead' &&
        exit.kind !== 'MmioWrite'
      )
        break;
    }
    // KVM may report `rep outsb` as one exit with count 5 or as several (software KVMs do one per
    // iteration): join the string's exits, checking that each one's data is size * count bytes.
    const string = seen.splice(6, seen.length - 7);
    for (const e of string)
      expect((e.data as number[]).length).toBe((e.size as number) * (e.count as number));
    seen.splice(6, 0, {
      kind: 'IoOut',
      port: string[0]?.port,
      size: string[0]?.size,
      count: string.reduce((n, e) => n + (e.count as number), 0),
      data: string.flatMap((e) => e.data as number[]),
    });
    expect(string.every((e) => e.port === 0x3f8 && e.size === 1)).toBe(true);
    expect(seen).toEqual([
      { kind: 'IoOut', port: 0x3f8, size: 1, count: 1, data: [0x41] },
      { kind: 'IoIn', port: 0x3f8, size: 1, count: 1, data: [0x5a] },
      { kind: 'IoOut', port: 0x80, size: 2, count: 1, data: [0xef, 0xbe] },
      { kind: 'MmioWrite', address: 0x10010n, data: [0x5a] },
      { kind: 'MmioRead', address: 0x10020n, data: [0x77] },
      { kind: 'MmioWrite', address: 0x10030n, data: [0x77] },
      { kind: 'IoOut', port: 0x3f8, size: 1, count: 5, data: [...Buffer.from('hello')] },
      { kind: 'Hlt' },
    ]);
    expect(vcpu.getRegs().rip).toBe(BigInt(REAL_MODE_LOAD + REAL_MODE_IO.length - 5));
    vcpu.close();
    t.close();
  });

  it('single-steps with KVM_SET_GUEST_DEBUG, one Debug exit per instruction', () => {
    const { t, vcpu } = realModeGuest(REAL_MODE_NOPS);
    vcpu.setGuestDebug({
      control: KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
      arch: { debugreg: Array(8).fill(0n) },
    });
    const pcs: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const exit = vcpu.run();
      expect(exit.kind).toBe('Debug');
      if (exit.kind === 'Debug') {
        expect(exit.exception).toBe(1); // #DB
        expect(exit.dr6 & 0x4000n).toBe(0x4000n); // DR6.BS: single step
        pcs.push(exit.pc);
      }
    }
    expect(pcs).toEqual([0x1001n, 0x1002n, 0x1003n]);
    vcpu.close();
    t.close();
  });

  it('reports an open interrupt window when asked for one', () => {
    const { t, vcpu } = realModeGuest(REAL_MODE_STI_LOOP);
    vcpu.kvmRun.requestInterruptWindow = true;
    expect(vcpu.run().kind).toBe('IrqWindowOpen');
    expect(vcpu.kvmRun.ifFlag).toBe(true);
    expect(vcpu.kvmRun.readyForInterruptInjection).toBe(true);
    vcpu.close();
    t.close();
  });

  it('returns Intr without entering the guest while immediate_exit is set', () => {
    const { t, vcpu } = realModeGuest(REAL_MODE_IO);
    vcpu.setImmediateExit(true);
    expect(vcpu.kvmRun.immediateExit).toBe(true);
    expect(vcpu.run().kind).toBe('Intr');
    expect(vcpu.getRegs().rip).toBe(BigInt(REAL_MODE_LOAD));
    vcpu.setImmediateExit(false);
    expect(snap(vcpu.run())).toEqual({ kind: 'IoOut', port: 0x3f8, size: 1, count: 1, data: [0x41] });
    vcpu.close();
    t.close();
  });
});

describe.skipIf(!kvmAvailable)('a 64-bit guest in user mode (CPL3)', () => {
  it('exits for port I/O of 1, 2 and 4 bytes and MMIO of 1, 2, 4 and 8 bytes, answered in place', () => {
    const { t, vcpu } = userGuest(USER_IO);
    const sregs = vcpu.getSregs();
    expect([sregs.cs.dpl, sregs.cs.l, sregs.ss.dpl, sregs.cs.selector & 3]).toEqual([3, 1, 3, 3]);
    const seen: Record<string, unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      const exit = vcpu.run();
      if (exit.kind === 'IoIn' && exit.port === 0x3f8) exit.data[0] = 0x5a;
      if (exit.kind === 'IoIn' && exit.port === 0x84)
        new DataView(exit.data.buffer, exit.data.byteOffset).setUint32(0, 0xdeadbeef, true);
      if (exit.kind === 'MmioRead' && exit.data.length === 8)
        exit.data.set([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
      if (exit.kind === 'MmioRead' && exit.data.length === 2) exit.data.set([0xcd, 0xab]);
      seen.push(snap(exit));
    }
    expect(seen).toEqual([
      { kind: 'IoOut', port: 0x3f8, size: 1, count: 1, data: [0x41] },
      { kind: 'IoIn', port: 0x3f8, size: 1, count: 1, data: [0x5a] },
      { kind: 'IoOut', port: 0x80, size: 4, count: 1, data: [0x78, 0x56, 0x34, 0x12] },
      { kind: 'IoIn', port: 0x84, size: 4, count: 1, data: [0xef, 0xbe, 0xad, 0xde] },
      { kind: 'MmioWrite', address: 0x200000n, data: [0x5a] },
      { kind: 'MmioWrite', address: 0x200004n, data: [0xef, 0xbe, 0xad, 0xde] },
      { kind: 'MmioRead', address: 0x200008n, data: [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11] },
      { kind: 'MmioWrite', address: 0x200010n, data: [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11] },
      { kind: 'MmioRead', address: 0x200018n, data: [0xcd, 0xab] },
      { kind: 'IoOut', port: 0x86, size: 2, count: 1, data: [0xcd, 0xab] },
    ]);
    expect(vcpu.getRegs().rax).toBe(0xabcdn);
    vcpu.close();
    t.close();
  });

  it('reuses one exit object and one data view per exit kind and size', () => {
    const { t, vcpu } = userGuest(USER_IO);
    const first = vcpu.run();
    const firstData = first.kind === 'IoOut' ? first.data : undefined;
    vcpu.run(); // IoIn
    const third = vcpu.run(); // IoOut of 4 bytes: same object, new view (other length)
    expect(third).toBe(first);
    expect(third.kind === 'IoOut' && third.data).not.toBe(firstData);
    expect(third.kind === 'IoOut' && third.data.buffer).toBe(vcpu.kvmRun.buffer);
    vcpu.close();
    t.close();
  });

  it('stops with InternalError when KVM must emulate an instruction fetch from MMIO', () => {
    const { t, vcpu } = userGuest(USER_FETCH_MMIO);
    const exit = vcpu.run();
    expect(exit.kind).toBe('InternalError');
    if (exit.kind === 'InternalError') expect(exit.suberror).toBe(KVM_INTERNAL_ERROR_EMULATION);
    vcpu.close();
    t.close();
  });

  it('shuts down on a triple fault', () => {
    const { t, vcpu } = userGuest(USER_UD2);
    expect(vcpu.run().kind).toBe('Shutdown');
    vcpu.close();
    t.close();
  });
});
