/**
 * The module each vCPU thread loads (see kvm-ioctls' VcpuThread): it attaches
 * this thread's views of the devices and handles every exit here, on the
 * thread that ran KVM_RUN. Exits that end the VM return a stop reason; the
 * main thread then stops the other vCPUs.
 */
import type { ExitHandler, VcpuContext, VcpuExit, VcpuStop } from '@tsvmm/kvm-ioctls';
import { VIRTIO_MMIO_WINDOW_SIZE, VirtioMmioTransport } from '@tsvmm/virtio-devices';
import { IoManager, MmioRange } from '@tsvmm/vm-device';
import { consoleWriter } from './console-writer.js';
import { CONTROL, PROBE } from './control.js';
import { attachLegacyDevices, type LegacyDevicesShared } from './legacy.js';
import type { VirtioDevicesShared } from './virtio.js';

/** What the main thread hands each vCPU thread. */
export interface VcpuHandlerData {
  id: number;
  legacy: LegacyDevicesShared;
  /** The virtio-mmio transports, whose register accesses this thread handles. */
  virtio: VirtioDevicesShared;
  /** Where the guest's console output goes. */
  consoleFd: number;
  /** The VM control words (see control.ts). */
  control: SharedArrayBuffer;
  /** I/O counters of this vCPU: [unclaimed port reads, unclaimed port writes, unclaimed MMIO, bad sizes]. */
  metrics: SharedArrayBuffer;
}

/** Why a vCPU ended the VM; the main thread maps these to exit statuses. */
export type VcpuStopReason =
  | 'reboot'
  | 'poweroff'
  | 'panic'
  | 'shutdown'
  | 'internal-error'
  | 'fail-entry'
  | 'unsupported-exit';

const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
const KVM_SYSTEM_EVENT_RESET = 2;
const KVM_SYSTEM_EVENT_CRASH = 3;
const KVM_MP_STATE_UNINITIALIZED = 1;
const KVM_MP_STATE_INIT_RECEIVED = 2;
const KVM_MP_STATE_HALTED = 3;
const RFLAGS_IF = 0x200n;

export const METRIC = { unclaimedPioRead: 0, unclaimedPioWrite: 1, unclaimedMmio: 2, badAccess: 3 } as const;

function stop(reason: VcpuStopReason, detail?: unknown): VcpuStop {
  return detail === undefined ? { stop: reason } : { stop: reason, detail };
}

export function setup(context: VcpuContext<VcpuHandlerData>): ExitHandler {
  const { vcpu, data } = context;
  const control = new Int32Array(data.control);
  const metrics = new Int32Array(data.metrics);
  const io = new IoManager();
  let resetRequested = false;
  const logged = new Set<string>();
  const log = (message: string) => {
    if (logged.has(message)) return;
    logged.add(message);
    process.stderr.write(`reference-vmm: vCPU ${data.id}: ${message}\n`);
  };
  attachLegacyDevices(io, data.legacy, {
    output: consoleWriter(
      data.consoleFd,
      () => Atomics.store(control, CONTROL.panicSeen, 1),
      context.stopRequested,
    ),
    onReset: () => {
      resetRequested = true;
    },
    log,
  });
  for (const { address, transport } of data.virtio.devices)
    io.registerMmio(
      new MmioRange(address, BigInt(VIRTIO_MMIO_WINDOW_SIZE)),
      VirtioMmioTransport.attach(transport),
    );

  /** Answers a probe from the main thread: can this vCPU ever run again? */
  const answerProbe = (): void => {
    vcpu.setImmediateExit(false);
    const { mp_state } = vcpu.getMpState();
    let dead = mp_state === KVM_MP_STATE_UNINITIALIZED || mp_state === KVM_MP_STATE_INIT_RECEIVED;
    if (mp_state === KVM_MP_STATE_HALTED) dead = (vcpu.getRegs().rflags & RFLAGS_IF) === 0n;
    Atomics.store(control, CONTROL.probeBase + data.id, dead ? PROBE.dead : PROBE.alive);
  };

  const pio = (exit: VcpuExit & { kind: 'IoIn' | 'IoOut' }): void => {
    const { port, size, count, data: bytes } = exit;
    for (let i = 0; i < count; i++) {
      const access = count === 1 ? bytes : bytes.subarray(i * size, (i + 1) * size);
      const result = exit.kind === 'IoIn' ? io.pioRead(port, access) : io.pioWrite(port, access);
      if (result === 'OK') continue;
      // No device: reads float high on a PC bus; writes go nowhere. Counted, never fatal.
      if (exit.kind === 'IoIn') {
        access.fill(0xff);
        Atomics.add(metrics, result === 'NO_DEVICE' ? METRIC.unclaimedPioRead : METRIC.badAccess, 1);
      } else {
        Atomics.add(metrics, result === 'NO_DEVICE' ? METRIC.unclaimedPioWrite : METRIC.badAccess, 1);
      }
    }
  };

  return (exit: VcpuExit): VcpuStop | undefined => {
    switch (exit.kind) {
      case 'IoOut':
      case 'IoIn':
        pio(exit);
        if (resetRequested) return stop(Atomics.load(control, CONTROL.panicSeen) ? 'panic' : 'reboot');
        return undefined;
      case 'MmioRead':
        if (io.mmioRead(exit.address, exit.data) !== 'OK') {
          exit.data.fill(0xff);
          Atomics.add(metrics, METRIC.unclaimedMmio, 1);
        }
        return undefined;
      case 'MmioWrite':
        if (io.mmioWrite(exit.address, exit.data) !== 'OK') Atomics.add(metrics, METRIC.unclaimedMmio, 1);
        return undefined;
      case 'Intr':
        answerProbe();
        return undefined;
      case 'Shutdown':
        return stop('shutdown', 'the vCPU shut down (triple fault)');
      case 'Hlt':
        // Only without an in-kernel irqchip, which this VMM always has: a halt no interrupt can end.
        return stop('poweroff', 'the vCPU halted');
      case 'SystemEvent':
        if (exit.type === KVM_SYSTEM_EVENT_RESET) return stop('reboot');
        if (exit.type === KVM_SYSTEM_EVENT_SHUTDOWN) return stop('poweroff');
        if (exit.type === KVM_SYSTEM_EVENT_CRASH) return stop('panic', 'the guest reported a crash');
        return stop('unsupported-exit', `system event ${exit.type}`);
      case 'InternalError':
        return stop('internal-error', {
          suberror: exit.suberror,
          data: exit.data.map((d) => `0x${d.toString(16)}`),
        });
      case 'FailEntry':
        return stop('fail-entry', {
          reason: `0x${exit.hardwareEntryFailureReason.toString(16)}`,
          cpu: exit.cpu,
        });
      case 'Unsupported':
        return stop('unsupported-exit', `exit reason ${exit.reason}`);
      default:
        return stop('unsupported-exit', exit.kind);
    }
  };
}
