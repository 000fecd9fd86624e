/**
 * `createVm()`: the reference VMM as a library. It is the one builder where
 * the packages meet: KVM, guest memory, the kernel loader, the vCPU boot
 * state, the legacy devices and the vCPU threads.
 *
 * ```ts
 * const vm = await createVm(config);
 * vm.console.output.pipe(process.stdout);
 * await vm.start();
 * const exit = await vm.wait(); // { reason: 'poweroff', ... }
 * ```
 */
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Cap, Kvm, type VcpuFd, VcpuThread, type VcpuThreadResult, type VmFd } from '@tsvmm/kvm-ioctls';
import type { VirtioMmioCounters } from '@tsvmm/virtio-devices';
import { IoManager } from '@tsvmm/vm-device';
import { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { configureVcpu, setupBootRegisters } from '@tsvmm/vm-vcpu-ref';
import { close, EventFd, kickThread, pipe } from '@tsvmm/vmm-sys-util';
import { type BootPlan, loadGuest } from './boot.js';
import type { VmConfig } from './config.js';
import { CONTROL, createControl, PROBE } from './control.js';
import { VmmError } from './errors.js';
import type { VmExit, VmExitReason } from './exit.js';
import { KVM_IDENTITY_MAP_ADDRESS, KVM_TSS_ADDRESS, ramRanges } from './layout.js';
import { createLegacyDevices, KEYBOARD_IRQ, type LegacyDevices, SERIAL_IRQ } from './legacy.js';
import type { VcpuHandlerData, VcpuStopReason } from './vcpu-handler.js';
import { openVirtioBackends, releaseVirtioBackends, rootDeviceArgs, VirtioDevices } from './virtio.js';

const MiB = 1024 * 1024;
/** How often the main thread asks the vCPUs whether they can still run (see DESIGN.md, "poweroff"). */
const PROBE_INTERVAL_MS = 200;

const HANDLER_URL = new URL(
  import.meta.url.endsWith('.ts') ? '../dist/vcpu-handler.js' : './vcpu-handler.js',
  import.meta.url,
);

export interface VmOptions {
  /**
   * Where the guest's console output goes: a file descriptor (the program uses
   * 1, its stdout). Default: a pipe read through `vm.console.output`.
   */
  consoleFd?: number;
}

/** The serial console of a running VM. */
export interface VmConsole {
  /** The guest's console output (empty when a `consoleFd` was given). */
  readonly output: Readable;
  /** Sends bytes to the guest's console input; nothing is dropped, bytes wait for room in the UART. */
  write(data: Uint8Array | string): void;
}

/** I/O the VMM answered without a device: counted, never fatal. */
export interface VmMetrics {
  unclaimedPioReads: number;
  unclaimedPioWrites: number;
  unclaimedMmio: number;
  badAccesses: number;
}

/** A created VM. */
export interface Vm {
  readonly config: VmConfig;
  readonly boot: Pick<BootPlan, 'protocol'> & { kernelKind: 'elf' | 'bzimage' };
  readonly console: VmConsole;
  /** Starts the vCPUs; resolves once every vCPU thread runs. */
  start(): Promise<void>;
  /** Resolves once the VM has ended, with why (and a flowing `console.output` has had every byte). */
  wait(): Promise<VmExit>;
  /** Stops a running VM (reason `stopped`) and resolves with how it ended. */
  stop(message?: string): Promise<VmExit>;
  metrics(): VmMetrics;
  /** What each virtio device's transport counted (guest mistakes, interrupts), by device id. */
  virtioMetrics(): Record<string, VirtioMmioCounters>;
  /** Releases KVM, memory and descriptors. Done by itself once the VM has ended. */
  close(): void;
}

function kvmFailure(what: string, e: unknown): VmmError {
  const err = e as NodeJS.ErrnoException;
  const hint =
    err.code === 'ENOENT'
      ? ' (no /dev/kvm: is the kvm module loaded?)'
      : err.code === 'EACCES'
        ? ' (no permission for /dev/kvm)'
        : '';
  return new VmmError('KVM', `${what}: ${err.message}${hint}`, { cause: e });
}

/** Checks what the VMM needs from KVM, with a clear error for each missing piece. */
function checkKvm(kvm: Kvm, vcpus: number): void {
  const version = kvm.getApiVersion();
  if (version !== 12) throw new VmmError('KVM', `KVM API version ${version} is not the stable version 12`);
  const needed: [Cap, string][] = [
    [Cap.Irqchip, 'in-kernel irqchip'],
    [Cap.UserMemory, 'user memory regions'],
    [Cap.SetTssAddr, 'KVM_SET_TSS_ADDR'],
    [Cap.Pit2, 'in-kernel PIT'],
    [Cap.Irqfd, 'irqfd'],
    [Cap.Ioeventfd, 'ioeventfd'],
    [Cap.ExtCpuid, 'KVM_GET_SUPPORTED_CPUID'],
  ];
  for (const [cap, name] of needed) {
    if (!kvm.hasExtension(cap))
      throw new VmmError('KVM', `this KVM lacks ${name} (KVM_CAP ${cap}), which the reference VMM needs`);
  }
  const max = kvm.getMaxVcpus();
  if (vcpus > max)
    throw new VmmError('VCPU', `${vcpus} vCPUs asked for, but this KVM supports at most ${max}`);
}

/**
 * Creates a VM from a checked configuration: KVM objects, guest memory with
 * the kernel and boot data loaded, devices and vCPUs, all ready to start.
 * @throws VmmError (`KVM`, `MEMORY`, `KERNEL`, `INITRD`, `BOOT`, `VCPU`) with the cause.
 */
export async function createVm(config: VmConfig, options: VmOptions = {}): Promise<Vm> {
  const cleanups: (() => void)[] = [];
  const cleanup = () => {
    while (cleanups.length > 0) {
      try {
        cleanups.pop()!();
      } catch {
        // best effort: the first error is the one reported
      }
    }
  };
  try {
    return build(config, options, cleanups, cleanup);
  } catch (e) {
    cleanup();
    throw e;
  }
}

function build(config: VmConfig, options: VmOptions, cleanups: (() => void)[], cleanup: () => void): Vm {
  // Device backends first: a disk or TAP device that cannot be opened fails before KVM is touched.
  const backends = openVirtioBackends(config);
  let backendsOwned = false;
  cleanups.push(() => {
    if (!backendsOwned) releaseVirtioBackends(backends);
  });

  let kvm: Kvm;
  try {
    kvm = Kvm.open();
  } catch (e) {
    throw kvmFailure('cannot open /dev/kvm', e);
  }
  cleanups.push(() => kvm.close());
  checkKvm(kvm, config.vcpus);

  let vm: VmFd;
  try {
    vm = kvm.createVm();
    cleanups.push(() => vm.close());
    vm.setIdentityMapAddress(KVM_IDENTITY_MAP_ADDRESS);
    vm.setTssAddress(KVM_TSS_ADDRESS);
    vm.createIrqchip();
    vm.createPit2();
  } catch (e) {
    throw kvmFailure('cannot set up the VM', e);
  }

  let mem: GuestMemoryMmap;
  try {
    mem = GuestMemoryMmap.fromRanges(ramRanges(config.memoryMiB * MiB), { backing: 'memfd' });
  } catch (e) {
    throw new VmmError(
      'MEMORY',
      `cannot allocate ${config.memoryMiB} MiB of guest memory: ${(e as Error).message}`,
      { cause: e },
    );
  }
  cleanups.push(() => mem.close());
  mem.regions.forEach((region, slot) => {
    try {
      vm.setUserMemoryRegion({
        slot,
        flags: 0,
        guest_phys_addr: region.start,
        memory_size: BigInt(region.size),
        userspace_addr: region.hostAddress!,
      });
    } catch (e) {
      throw kvmFailure(`cannot give guest memory at 0x${region.start.toString(16)} to KVM`, e);
    }
  });

  const virtio = VirtioDevices.create(vm, mem, backends, (m) =>
    process.stderr.write(`reference-vmm: ${m}\n`),
  );
  backendsOwned = true;
  cleanups.push(() => virtio.close());

  const plan = loadGuest(mem, {
    kernel: config.kernel,
    initrd: config.initrd,
    cmdline: config.cmdline,
    protocol: config.boot,
    vcpus: config.vcpus,
    virtioDevices: virtio.placements,
    extraArgs: rootDeviceArgs(config),
  });

  // Console output: to the given fd, or to a pipe the main thread reads. At the end only the
  // write end is closed, so the reader still gets every byte, then EOF.
  let consoleFd = options.consoleFd;
  let output: Readable;
  let drained: () => Promise<void> = async () => undefined;
  if (consoleFd === undefined) {
    const [readFd, writeFd] = pipe();
    consoleFd = writeFd;
    const socket = new Socket({ fd: readFd, readable: true, writable: false });
    output = socket;
    const eof = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // A consumer that is reading gets everything before wait() resolves; a paused stream keeps its bytes.
    drained = () => (socket.readableFlowing === true ? eof : Promise.resolve());
    cleanups.push(() => closeQuietly(writeFd));
  } else {
    output = Readable.from([]);
  }

  // Legacy devices: interrupts through irqfds, so any thread can raise them.
  const serialIrq = new EventFd();
  const keyboardIrq = new EventFd();
  cleanups.push(
    () => serialIrq.close(),
    () => keyboardIrq.close(),
  );
  try {
    vm.registerIrqfd(serialIrq, SERIAL_IRQ);
    vm.registerIrqfd(keyboardIrq, KEYBOARD_IRQ);
  } catch (e) {
    throw kvmFailure('cannot register the legacy devices’ interrupts', e);
  }
  const control = createControl(config.vcpus);
  // The main thread's views: it feeds console input, and never handles guest I/O itself.
  const legacy = createLegacyDevices(
    new IoManager(),
    { serial: serialIrq.fd, keyboard: keyboardIrq.fd },
    {
      output: () => {
        throw new Error('the main thread never handles guest I/O');
      },
      onReset: () => {
        throw new Error('the main thread never handles guest I/O');
      },
      log: (m) => process.stderr.write(`reference-vmm: ${m}\n`),
    },
  );

  // vCPUs: CPUID, MSRs, FPU and LAPIC for each; the boot registers for the first.
  const host = { supportedCpuid: kvm.getSupportedCpuid(), msrIndexList: kvm.getMsrIndexList() };
  const vcpus: VcpuFd[] = [];
  for (let id = 0; id < config.vcpus; id++) {
    try {
      const vcpu = vm.createVcpu(id);
      vcpus.push(vcpu);
      cleanups.push(() => vcpu.close());
      configureVcpu(vcpu, host, { id, count: config.vcpus });
      if (id === 0) setupBootRegisters(vcpu, plan.entry, plan.tables);
    } catch (e) {
      throw new VmmError('VCPU', `cannot set up vCPU ${id}: ${(e as Error).message}`, { cause: e });
    }
  }

  const metrics = vcpus.map(() => new SharedArrayBuffer(16));
  return new RunningVm(config, plan, {
    vcpus,
    control,
    metrics,
    legacy: legacy.shared,
    devices: legacy.devices,
    virtio,
    consoleFd,
    output,
    drained,
    cleanup,
  });
}

function closeQuietly(fd: number): void {
  try {
    close(fd);
  } catch {
    // already closed
  }
}

interface Parts {
  vcpus: VcpuFd[];
  control: Int32Array;
  metrics: SharedArrayBuffer[];
  legacy: VcpuHandlerData['legacy'];
  devices: LegacyDevices;
  virtio: VirtioDevices;
  consoleFd: number;
  output: Readable;
  /** Resolves once a flowing console consumer has read everything (after the write end closed). */
  drained: () => Promise<void>;
  cleanup: () => void;
}

const STOP_MESSAGES: Record<VcpuStopReason, [VmExitReason, string]> = {
  reboot: ['reboot', 'the guest rebooted'],
  poweroff: ['poweroff', 'the guest powered off'],
  panic: ['panic', 'the guest kernel panicked'],
  shutdown: ['shutdown', 'the guest triple-faulted (shutdown)'],
  'internal-error': ['internal-error', 'KVM could not run the guest (internal error)'],
  'fail-entry': ['internal-error', 'KVM could not enter the guest (hardware entry failure)'],
  'unsupported-exit': ['internal-error', 'the guest made an exit the VMM does not handle'],
};

class RunningVm implements Vm {
  readonly config: VmConfig;
  readonly boot: Vm['boot'];
  readonly console: VmConsole;
  readonly #parts: Parts;
  #threads: VcpuThread[] = [];
  #started = false;
  #exit: VmExit | undefined;
  #settle!: (exit: VmExit) => void;
  readonly #ended: Promise<VmExit>;
  #probe: NodeJS.Timeout | undefined;
  #closed = false;
  #input: Uint8Array[] = [];
  #pumping = false;

  constructor(config: VmConfig, plan: BootPlan, parts: Parts) {
    this.config = config;
    this.boot = { protocol: plan.protocol, kernelKind: plan.kernel.kind };
    this.#parts = parts;
    this.#ended = new Promise((resolve) => {
      this.#settle = resolve;
    });
    this.console = {
      output: parts.output,
      write: (data) => this.#write(data),
    };
  }

  async start(): Promise<void> {
    if (this.#started || this.#exit !== undefined) throw new VmmError('STATE', 'the VM was already started');
    this.#started = true;
    const p = this.#parts;
    // The I/O thread first: a vCPU may write DRIVER_OK as soon as it runs.
    try {
      await p.virtio.start();
    } catch (e) {
      this.#end({ reason: 'error', message: (e as Error).message, detail: e });
      throw e;
    }
    p.virtio.onFailure((error) =>
      this.#end({
        reason: 'error',
        message: `the virtio I/O thread failed: ${error.message}`,
        detail: error,
      }),
    );
    this.#threads = p.vcpus.map((vcpu, id) => {
      const data: VcpuHandlerData = {
        id,
        legacy: p.legacy,
        virtio: p.virtio.shared,
        consoleFd: p.consoleFd,
        control: p.control.buffer as SharedArrayBuffer,
        metrics: p.metrics[id]!,
      };
      const thread = VcpuThread.start({ vcpu, handler: HANDLER_URL, data, name: `vcpu${id}` });
      thread.done.then(
        (result) => this.#onVcpuDone(id, result),
        (error: unknown) =>
          this.#end({
            reason: 'error',
            message: `vCPU ${id} failed: ${(error as Error).message}`,
            vcpu: id,
            detail: error,
          }),
      );
      return thread;
    });
    await Promise.race([Promise.all(this.#threads.map((t) => t.ready)), this.#ended]);
    if (this.#exit === undefined) this.#probe = setInterval(() => this.#probeVcpus(), PROBE_INTERVAL_MS);
  }

  wait(): Promise<VmExit> {
    return this.#ended;
  }

  stop(message = 'stopped by the VMM'): Promise<VmExit> {
    this.#end({ reason: 'stopped', message });
    return this.#ended;
  }

  metrics(): VmMetrics {
    const sum = (i: number) =>
      this.#parts.metrics.reduce((n, m) => n + Atomics.load(new Int32Array(m), i), 0);
    return {
      unclaimedPioReads: sum(0),
      unclaimedPioWrites: sum(1),
      unclaimedMmio: sum(2),
      badAccesses: sum(3),
    };
  }

  virtioMetrics(): Record<string, VirtioMmioCounters> {
    return this.#parts.virtio.counters();
  }

  close(): void {
    if (this.#closed) return;
    if (this.#threads.some((t) => !t.exited)) throw new VmmError('STATE', 'stop the VM before closing it');
    this.#closed = true;
    this.#parts.cleanup();
  }

  #onVcpuDone(id: number, result: VcpuThreadResult): void {
    if (result.kind === 'HandlerStop') {
      const [reason, message] = STOP_MESSAGES[result.reason as VcpuStopReason] ?? [
        'internal-error',
        `vCPU stopped: ${result.reason}`,
      ];
      const detail =
        result.detail === undefined
          ? ''
          : `: ${typeof result.detail === 'string' ? result.detail : JSON.stringify(result.detail)}`;
      this.#end({
        reason,
        message: `${message}${detail}`,
        vcpu: id,
        ...(result.detail === undefined ? {} : { detail: result.detail }),
      });
    } else if (this.#exit === undefined) {
      this.#end({ reason: 'error', message: `vCPU ${id} stopped unexpectedly`, vcpu: id });
    }
  }

  /** Records how the VM ended (the first reason wins), stops every vCPU, then releases everything. */
  #end(exit: VmExit): void {
    if (this.#exit !== undefined) return;
    this.#exit = exit;
    if (this.#probe !== undefined) clearInterval(this.#probe);
    void Promise.allSettled(this.#threads.map((t) => t.stop())).then(async () => {
      // After the vCPUs: no register access can signal the I/O thread any more. Its failure was reported.
      await this.#parts.virtio.stop();
      try {
        this.close();
      } catch {
        // a vCPU thread that could not be stopped keeps its resources; reported through `exit`
      }
      await this.#parts.drained();
      this.#settle(exit);
    });
  }

  /**
   * Asks every vCPU whether it can still run. Linux powers off without ACPI by
   * halting every CPU with interrupts disabled, which KVM handles in the
   * kernel without an exit: a VMM can only notice by asking. When every vCPU
   * answered "dead" to the previous round, the guest has powered off.
   */
  #probeVcpus(): void {
    const p = this.#parts;
    const count = p.vcpus.length;
    let dead = 0;
    for (let id = 0; id < count; id++)
      if (Atomics.load(p.control, CONTROL.probeBase + id) === PROBE.dead) dead++;
    if (dead === count) {
      this.#end({
        reason: 'poweroff',
        message: 'the guest powered off (every vCPU halted with interrupts disabled)',
      });
      return;
    }
    for (let id = 0; id < count; id++) {
      const thread = this.#threads[id]!;
      const handle = thread.thread;
      if (handle === undefined || thread.exited) continue;
      Atomics.store(p.control, CONTROL.probeBase + id, PROBE.pending);
      thread.vcpu.setImmediateExit(true);
      try {
        kickThread(handle);
      } catch {
        // the thread ended between the check and the kick; its 'done' reports why
      }
    }
  }

  #write(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length === 0) return;
    this.#input.push(bytes);
    if (!this.#pumping) void this.#pump();
  }

  /** Feeds queued input into the UART as it makes room; nothing is dropped. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    const serial = this.#parts.devices.serial;
    try {
      while (this.#input.length > 0 && this.#exit === undefined) {
        const chunk = this.#input[0]!;
        const n = serial.enqueueInput(chunk);
        if (n === chunk.length) this.#input.shift();
        else {
          this.#input[0] = chunk.subarray(n);
          await serial.whenInputSpace();
        }
      }
    } finally {
      this.#pumping = false;
    }
  }
}
