/**
 * The I/O worker's entry: builds each device from its spec, maps guest
 * memory, and runs the event loop until the main thread asks it to stop.
 * Queue notifications, backend descriptors and the control eventfd are all
 * handled here, on this one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IrqFdEdgeInterrupt, RawEventFd } from '@tsvmm/vm-device';
import { type GuestMemory, GuestMemoryArrayBuffer, GuestMemoryMmap } from '@tsvmm/vm-memory';
import { EPOLLIN } from '@tsvmm/vmm-sys-util';
import type { VirtioDevice, VirtioDeviceFactory } from '../device.js';
import { VirtioDevicesError } from '../errors.js';
import { MmioDeviceRunner } from '../transport/mmio-device-runner.js';
import { IoEventLoop } from './event-loop.js';
import { builtModuleUrl } from './module-url.js';
import {
  IO_CONTROL,
  type IoThreadDevice,
  type IoThreadMessage,
  type IoThreadWorkerData,
} from './protocol.js';

const data = workerData as IoThreadWorkerData;
const post = (message: IoThreadMessage) => parentPort!.postMessage(message);
const control = new Int32Array(data.control);

async function buildDevice({ spec }: IoThreadDevice, index: number): Promise<VirtioDevice> {
  let factory: unknown;
  try {
    // A module named from TypeScript source (e.g. `import.meta.url` under vitest) is loaded from dist/.
    const url = spec.module.endsWith('.ts') ? builtModuleUrl(spec.module, spec.module) : spec.module;
    const module = (await import(url)) as Record<string, unknown>;
    factory = module[spec.factory];
  } catch (e) {
    throw new VirtioDevicesError(
      'DEVICE_FACTORY',
      `device ${index}: cannot import ${spec.module}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  if (typeof factory !== 'function')
    throw new VirtioDevicesError(
      'DEVICE_FACTORY',
      `device ${index}: ${spec.module} exports no function ${spec.factory}`,
    );
  try {
    return (factory as VirtioDeviceFactory)(spec.options);
  } catch (e) {
    throw new VirtioDevicesError(
      'DEVICE_FACTORY',
      `device ${index}: ${spec.factory} failed: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
}

function mapMemory(): GuestMemory {
  return data.memory.kind === 'arraybuffer'
    ? GuestMemoryArrayBuffer.fromDescriptor(data.memory)
    : GuestMemoryMmap.fromDescriptor(data.memory);
}

async function main(): Promise<void> {
  const memory = mapMemory();
  const loop = new IoEventLoop();
  const runners: MmioDeviceRunner[] = [];
  const log = (message: string) => post({ type: 'log', message });
  try {
    for (const [index, entry] of data.devices.entries()) {
      const device = await buildDevice(entry, index);
      const { transport } = entry;
      const runner = new MmioDeviceRunner(device, transport, {
        memory,
        interrupt: new IrqFdEdgeInterrupt(new RawEventFd(transport.irqFd!)),
        eventLoop: loop,
        log: (m) => log(`virtio device ${index} (type ${transport.info.deviceType}): ${m}`),
      });
      runners.push(runner);
      transport.notifyFds.forEach((fd, q) => {
        const notifier = new RawEventFd(fd);
        loop.add(fd, EPOLLIN, () => {
          // Drained first: a notification arriving while the queue is served wakes the loop again.
          notifier.read();
          runner.processQueue(q);
        });
      });
    }
    const controlFd = new RawEventFd(data.controlFd);
    loop.add(data.controlFd, EPOLLIN, () => {
      controlFd.read();
      for (const runner of runners) runner.sync();
    });
    // DRIVER_OK or a reset written before the loop existed.
    for (const runner of runners) runner.sync();
    post({ type: 'ready' });
    while (Atomics.load(control, IO_CONTROL.stop) === 0) {
      loop.runOnce(-1);
      Atomics.add(control, IO_CONTROL.wakeups, 1);
    }
  } finally {
    for (const runner of runners) runner.close();
    loop.close();
    if (memory instanceof GuestMemoryMmap) memory.close();
  }
}

main().then(
  () => post({ type: 'done' }),
  (e: unknown) => {
    const code = e instanceof VirtioDevicesError ? e.code : 'IO_THREAD_FAILED';
    const message = (e as Error)?.message ?? String(e);
    const stack = (e as Error)?.stack;
    post({ type: 'failed', code, message, ...(stack === undefined ? {} : { stack }) });
  },
);
