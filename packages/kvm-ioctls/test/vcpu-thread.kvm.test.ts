import { setTimeout as sleep } from 'node:timers/promises';
import { EventFd } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import {
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_UNINITIALIZED,
  KvmError,
  type VcpuFd,
  VcpuThread,
} from '../src/index.js';
import {
  createTestVm,
  enterLongModeUser,
  enterRealMode,
  TestGuestLayout as L,
  OUT_LOOP,
  program,
  type TestVm,
} from '../src/testing/index.js';
import { kvmAvailable } from '../src/testing/kvm-available.js';
import { REAL_MODE_IRQ, REAL_MODE_LOAD, USER_HANDSHAKE } from './guests.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const SPIN = program([['eb fe', '1: jmp 1b   # never exits']]);

function userVm(code: Uint8Array, vcpus = 1): { t: TestVm; vcpus: VcpuFd[] } {
  const t = createTestVm();
  t.ram.set(code, L.CODE);
  const list = Array.from({ length: vcpus }, (_, id) => t.vm.createVcpu(id));
  for (const v of list)
    enterLongModeUser(v, t.ram, { entry: BigInt(L.CODE), stack: BigInt(L.STACK_TOP - 0x1000 * v.id) });
  return { t, vcpus: list };
}

/** Fails the test instead of hanging it if a thread does not finish. */
async function within<T>(ms: number, thread: VcpuThread, what: Promise<T>): Promise<T> {
  const timer = sleep(ms).then(() => {
    thread.stop();
    throw new Error(`vCPU thread did not finish within ${ms} ms`);
  });
  return Promise.race([what, timer]);
}

describe.skipIf(!kvmAvailable)('VcpuThread', () => {
  it('runs a vCPU on its own thread while the main thread stays responsive, and stops it', async () => {
    const { t, vcpus } = userVm(Uint8Array.from(program(OUT_LOOP)));
    const vcpu = vcpus[0]!;
    const counter = new SharedArrayBuffer(4);
    const thread = VcpuThread.start({
      vcpu,
      handler: fixture('stop-on-port.mjs'),
      data: { counter, port: -1 },
    });
    const handle = await thread.ready;
    expect(handle.tid).not.toBe(process.pid);
    expect(thread.thread).toEqual(handle);
    const counts = new Int32Array(counter);
    const before = Atomics.load(counts, 0);
    await sleep(100); // timers fire: the event loop is not blocked by KVM_RUN
    expect(Atomics.load(counts, 0)).toBeGreaterThan(before);
    const result = await thread.stop();
    expect(result.kind).toBe('Stopped');
    expect(result.exits).toBe(Atomics.load(counts, 0));
    expect(thread.exited).toBe(true);
    // The vCPU is usable from this thread again, still inside its loop, and immediate_exit is clear.
    const rip = vcpu.getRegs().rip;
    expect(rip >= BigInt(L.CODE) && rip < BigInt(L.CODE + 4)).toBe(true);
    expect(vcpu.kvmRun.immediateExit).toBe(false);
    vcpu.close();
    t.close();
  });

  it('kicks a vCPU out of a KVM_RUN that would never return by itself', async () => {
    const { t, vcpus } = userVm(SPIN);
    const thread = VcpuThread.start({
      vcpu: vcpus[0]!,
      handler: fixture('stop-on-port.mjs'),
      data: { port: -1 },
    });
    await thread.ready;
    await sleep(50); // well inside KVM_RUN by now
    expect(await within(10_000, thread, thread.stop())).toEqual({ kind: 'Stopped', exits: 0 });
    vcpus[0]!.close();
    t.close();
  });

  it('stops a vCPU whose thread is still starting', async () => {
    const { t, vcpus } = userVm(SPIN);
    const thread = VcpuThread.start({
      vcpu: vcpus[0]!,
      handler: fixture('stop-on-port.mjs'),
      data: { port: -1 },
    });
    expect(await within(10_000, thread, thread.stop())).toEqual({ kind: 'Stopped', exits: 0 });
    expect(await thread.stop()).toEqual({ kind: 'Stopped', exits: 0 }); // a second stop is harmless
    vcpus[0]!.close();
    t.close();
  });

  it('refuses ioctls on a vCPU another thread is running (VCPU_BUSY)', async () => {
    const { t, vcpus } = userVm(SPIN);
    const vcpu = vcpus[0]!;
    const thread = VcpuThread.start({ vcpu, handler: fixture('stop-on-port.mjs'), data: { port: -1 } });
    const again = () => VcpuThread.start({ vcpu, handler: fixture('stop-on-port.mjs') });
    for (const call of [() => vcpu.getRegs(), () => vcpu.run(), () => vcpu.close(), again])
      expect(call).toThrow(expect.objectContaining({ name: 'KvmError', code: 'VCPU_BUSY' }));
    await within(10_000, thread, thread.stop());
    expect(() => vcpu.getRegs()).not.toThrow();
    vcpu.close();
    t.close();
  });

  it('runs several vCPUs at the same time', { timeout: 60_000 }, async () => {
    // Each vCPU sets its flag and waits for the next one's: no vCPU can finish unless all run at once.
    const n = 3;
    const { t, vcpus } = userVm(USER_HANDSHAKE, n);
    for (const v of vcpus) {
      const regs = v.getRegs();
      const flag = (i: number) => BigInt(L.DATA + 64 * i);
      v.setRegs({ ...regs, rdi: flag(v.id), rsi: flag((v.id + 1) % n), rdx: BigInt(0x100 + v.id) });
    }
    const threads = vcpus.map((vcpu) =>
      VcpuThread.start({ vcpu, handler: fixture('stop-on-port.mjs'), data: { port: 0x100 + vcpu.id } }),
    );
    const results = await Promise.all(threads.map((th) => within(30_000, th, th.done)));
    expect(results).toEqual(
      vcpus.map((v) => ({
        kind: 'HandlerStop',
        reason: 'port',
        detail: { vcpu: v.id, data: [1] },
        exits: 1,
      })),
    );
    for (const v of vcpus) v.close();
    t.close();
  });

  it('delivers an interrupt raised through an irqfd to a halted guest', { timeout: 60_000 }, async () => {
    const t = createTestVm({ ramSize: 0x1_0000, irqchip: true });
    t.ram.set(REAL_MODE_IRQ, REAL_MODE_LOAD);
    const vcpu = t.vm.createVcpu(0);
    enterRealMode(vcpu, REAL_MODE_LOAD);
    using irq = new EventFd();
    t.vm.registerIrqfd(irq, 4);
    const ready = new SharedArrayBuffer(4);
    const thread = VcpuThread.start({
      vcpu,
      handler: fixture('stop-on-port.mjs'),
      data: { port: 0x10, ready, readyPort: 0x11 },
    });
    // Once the guest has programmed its PIC (an edge before that would be reset away):
    const flag = new Int32Array(ready);
    await within(
      30_000,
      thread,
      (async () => {
        while (Atomics.load(flag, 0) === 0) await sleep(5);
      })(),
    );
    irq.write(1); // edge on GSI 4: the master PIC's IRQ 4, vector 0x24
    const result = await within(30_000, thread, thread.done);
    expect(result).toMatchObject({ kind: 'HandlerStop', detail: { data: [0x24] } });
    t.vm.unregisterIrqfd(irq, 4);
    vcpu.close();
    t.close();
  });

  it('starts an application processor with INIT and SIPI (KVM_RUN returns EAGAIN, and is entered again)', {
    timeout: 60_000,
  }, async () => {
    const t = createTestVm({ ramSize: 0x1_0000, irqchip: true });
    // The AP starts in real mode at vector << 12 = 0x1000 (CS 0x0100, IP 0).
    t.ram.set(
      program([
        ['b0 4a', 'mov $0x4a, %al'],
        ['e6 10', 'out %al, $0x10'],
        ['eb fe', '1: jmp 1b'],
      ]),
      0x1000,
    );
    const bsp = t.vm.createVcpu(0);
    const ap = t.vm.createVcpu(1);
    expect(ap.getMpState().mp_state).toBe(KVM_MP_STATE_UNINITIALIZED);
    // Software-enable the AP's local APIC (SVR bit 8), as firmware would, so that it takes the MSIs.
    const regs = ap.getLapic().regs.slice();
    regs[0xf1]! |= 1;
    ap.setLapic({ regs });
    const thread = VcpuThread.start({ vcpu: ap, handler: fixture('stop-on-port.mjs'), data: { port: 0x10 } });
    await thread.ready;
    await sleep(20); // now blocked in KVM_RUN, waiting for INIT; without the retry, EAGAIN would end the thread
    // MSIs to APIC id 1 (address bits 12-19) with delivery mode INIT (5), then STARTUP (6) vector 1.
    const toAp = { address_lo: 0xfee0_1000, address_hi: 0, flags: 0, devid: 0 };
    t.vm.signalMsi({ ...toAp, data: 0x500 });
    t.vm.signalMsi({ ...toAp, data: 0x601 });
    expect(await within(30_000, thread, thread.done)).toMatchObject({
      kind: 'HandlerStop',
      detail: { vcpu: 1, data: [0x4a] },
    });
    expect(ap.getMpState().mp_state).toBe(KVM_MP_STATE_RUNNABLE);
    ap.close();
    bsp.close();
    t.close();
  });

  it('rejects done with the cause when the exit handler throws', async () => {
    const { t, vcpus } = userVm(Uint8Array.from(program(OUT_LOOP)));
    const thread = VcpuThread.start({ vcpu: vcpus[0]!, handler: fixture('throws.mjs') });
    const err = await thread.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KvmError);
    expect(err).toMatchObject({
      code: 'VCPU_THREAD_FAILED',
      cause: { name: 'RangeError', message: 'boom from the exit handler' },
    });
    expect(() => vcpus[0]!.getRegs()).not.toThrow(); // released
    vcpus[0]!.close();
    t.close();
  });

  it.each([
    ['no-setup.mjs', /does not export a setup function/],
    ['bad-setup.mjs', /did not return an exit handler/],
  ])('rejects a handler module that is not one (%s)', async (file, message) => {
    const { t, vcpus } = userVm(SPIN);
    const thread = VcpuThread.start({ vcpu: vcpus[0]!, handler: fixture(file) });
    await expect(thread.done).rejects.toMatchObject({
      code: 'VCPU_THREAD_FAILED',
      cause: { code: 'VCPU_HANDLER_INVALID', message: expect.stringMatching(message) },
    });
    vcpus[0]!.close();
    t.close();
  });

  it('checks its arguments before starting a thread', () => {
    const { t, vcpus } = userVm(SPIN);
    const vcpu = vcpus[0]!;
    expect(() => VcpuThread.start({ vcpu, handler: 'relative/handler.mjs' })).toThrow(TypeError);
    expect(() => VcpuThread.start({ vcpu, handler: new URL('https://example.com/h.mjs') })).toThrow(
      TypeError,
    );
    expect(() => VcpuThread.start({ vcpu: {} as VcpuFd, handler: fixture('throws.mjs') })).toThrow(TypeError);
    expect(() => vcpu.getRegs()).not.toThrow(); // nothing was started
    vcpu.close();
    t.close();
  });
});
