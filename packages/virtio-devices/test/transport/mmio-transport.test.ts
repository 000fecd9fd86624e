import { describe, expect, it } from 'vitest';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED as FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_NEEDS_RESET as NEEDS_RESET,
  TSVMM_VENDOR_ID,
  VIRTIO_F_VERSION_1,
  VIRTIO_MMIO_CONFIG,
  VIRTIO_MMIO_CONFIG_GENERATION,
  VIRTIO_MMIO_DEVICE_FEATURES,
  VIRTIO_MMIO_DEVICE_FEATURES_SEL,
  VIRTIO_MMIO_DEVICE_ID,
  VIRTIO_MMIO_DRIVER_FEATURES,
  VIRTIO_MMIO_DRIVER_FEATURES_SEL,
  VIRTIO_MMIO_INTERRUPT_ACK,
  VIRTIO_MMIO_INTERRUPT_STATUS,
  VIRTIO_MMIO_MAGIC_VALUE_OFFSET,
  VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
  VIRTIO_MMIO_QUEUE_AVAIL_LOW,
  VIRTIO_MMIO_QUEUE_DESC_HIGH,
  VIRTIO_MMIO_QUEUE_DESC_LOW,
  VIRTIO_MMIO_QUEUE_NOTIFY,
  VIRTIO_MMIO_QUEUE_NUM,
  VIRTIO_MMIO_QUEUE_NUM_MAX,
  VIRTIO_MMIO_QUEUE_READY,
  VIRTIO_MMIO_QUEUE_RESET,
  VIRTIO_MMIO_QUEUE_SEL,
  VIRTIO_MMIO_QUEUE_USED_HIGH,
  VIRTIO_MMIO_QUEUE_USED_LOW,
  VIRTIO_MMIO_SHM_BASE_HIGH,
  VIRTIO_MMIO_SHM_BASE_LOW,
  VIRTIO_MMIO_SHM_LEN_HIGH,
  VIRTIO_MMIO_SHM_LEN_LOW,
  VIRTIO_MMIO_SHM_SEL,
  VIRTIO_MMIO_STATUS,
  VIRTIO_MMIO_VENDOR_ID,
  VIRTIO_MMIO_VERSION_OFFSET,
  type VirtioDeviceInfo,
  VirtioDevicesError,
  VirtioMmioTransport,
} from '../../src/index.js';
import { cleanupAfterEach, testEventFd } from '../support/cleanup.js';
import { MmioDriver } from '../support/mmio-driver.js';

const V1 = 1n << BigInt(VIRTIO_F_VERSION_1);
const INFO: VirtioDeviceInfo = {
  deviceType: 2,
  queueMaxSizes: [256, 64],
  availFeatures: V1 | (1n << 5n) | (1n << 40n),
  configSpace: Uint8Array.from({ length: 24 }, (_, i) => i + 1),
};

const defer = cleanupAfterEach();
const eventFd = () => testEventFd(defer);

function setup(info: VirtioDeviceInfo = INFO) {
  const notify = info.queueMaxSizes.map(() => eventFd());
  const control = eventFd();
  const transport = VirtioMmioTransport.create(info, {
    notifyFds: notify.map((f) => f.fd),
    controlFd: control.fd,
  });
  return { transport, driver: new MmioDriver(transport), notify, control };
}

describe('identification registers', () => {
  it('reads magic, version 2, the device type and the vendor', () => {
    const { driver } = setup();
    expect(driver.read(VIRTIO_MMIO_MAGIC_VALUE_OFFSET)).toBe(0x74726976);
    expect(driver.read(VIRTIO_MMIO_VERSION_OFFSET)).toBe(2);
    expect(driver.read(VIRTIO_MMIO_DEVICE_ID)).toBe(2);
    expect(driver.read(VIRTIO_MMIO_VENDOR_ID)).toBe(TSVMM_VENDOR_ID);
  });

  it('ignores writes to read-only registers and counts them', () => {
    const { driver, transport } = setup();
    for (const reg of [VIRTIO_MMIO_MAGIC_VALUE_OFFSET, VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_INTERRUPT_STATUS])
      driver.write(reg, 7);
    expect(driver.read(VIRTIO_MMIO_MAGIC_VALUE_OFFSET)).toBe(0x74726976);
    expect(driver.read(VIRTIO_MMIO_DEVICE_ID)).toBe(2);
    expect(transport.counters().badRegister).toBe(3);
  });

  it('reads write-only and unknown registers as 0 and counts them', () => {
    const { driver, transport } = setup();
    for (const reg of [
      VIRTIO_MMIO_QUEUE_NOTIFY,
      VIRTIO_MMIO_DRIVER_FEATURES,
      VIRTIO_MMIO_QUEUE_SEL,
      0x18,
      0xf8,
    ])
      expect(driver.read(reg)).toBe(0);
    expect(transport.counters().badRegister).toBe(5);
  });

  it('has no shared memory regions (length and base all ones) and no queue reset', () => {
    const { driver } = setup();
    driver.write(VIRTIO_MMIO_SHM_SEL, 0);
    for (const reg of [
      VIRTIO_MMIO_SHM_LEN_LOW,
      VIRTIO_MMIO_SHM_LEN_HIGH,
      VIRTIO_MMIO_SHM_BASE_LOW,
      VIRTIO_MMIO_SHM_BASE_HIGH,
    ])
      expect(driver.read(reg)).toBe(0xffff_ffff);
    expect(driver.read(VIRTIO_MMIO_QUEUE_RESET)).toBe(0);
  });
});

describe('access sizes', () => {
  it('ignores and counts control register accesses that are not 32-bit and aligned', () => {
    const { transport, driver } = setup();
    for (const [offset, size] of [
      [VIRTIO_MMIO_MAGIC_VALUE_OFFSET, 1],
      [VIRTIO_MMIO_MAGIC_VALUE_OFFSET, 2],
      [VIRTIO_MMIO_MAGIC_VALUE_OFFSET, 8],
      [VIRTIO_MMIO_MAGIC_VALUE_OFFSET + 1, 4],
    ] as const) {
      const data = new Uint8Array(size).fill(0xaa);
      transport.read(offset, data);
      expect([...data]).toEqual(new Array(size).fill(0));
    }
    transport.write(VIRTIO_MMIO_STATUS, Uint8Array.of(ACK));
    transport.write(VIRTIO_MMIO_STATUS + 2, Uint8Array.of(ACK, 0, 0, 0));
    expect(driver.status).toBe(0);
    expect(transport.counters().badAccess).toBe(6);
  });
});

describe('feature windows', () => {
  it('shows the offered features 32 bits at a time and zeros past bit 63', () => {
    const { driver } = setup();
    expect(driver.deviceFeatures()).toBe(INFO.availFeatures);
    driver.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    expect(driver.read(VIRTIO_MMIO_DEVICE_FEATURES)).toBe(0);
    driver.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffff_ffff);
    expect(driver.read(VIRTIO_MMIO_DEVICE_FEATURES)).toBe(0);
  });

  it('takes the driver’s features only between DRIVER and FEATURES_OK', () => {
    const { driver, transport } = setup();
    driver.writeFeatures(V1); // before DRIVER
    expect(transport.state.driverFeatures()).toBe(0n);
    driver.addStatus(ACK);
    driver.addStatus(DRIVER);
    driver.writeFeatures(V1 | (1n << 5n));
    expect(transport.state.driverFeatures()).toBe(V1 | (1n << 5n));
    driver.addStatus(FEATURES_OK);
    expect(driver.status & FEATURES_OK).toBe(FEATURES_OK);
    driver.writeFeatures(V1); // after FEATURES_OK
    expect(transport.state.driverFeatures()).toBe(V1 | (1n << 5n));
    expect(transport.counters().badWrite).toBe(4);
  });
});

describe('status state machine', () => {
  it('walks ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK and counts one activation', () => {
    const { driver, transport, control } = setup();
    expect(driver.negotiate(V1)).toBe(true);
    expect(driver.status).toBe(ACK | DRIVER | FEATURES_OK);
    control.read();
    driver.addStatus(DRIVER_OK);
    expect(driver.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(transport.state.load(9)).toBe(1); // activations
    expect(control.read()).toBe(1n); // the I/O thread was told
    expect(transport.counters().badStatus).toBe(0);
  });

  it('refuses FEATURES_OK without VIRTIO_F_VERSION_1', () => {
    const { driver, transport } = setup();
    expect(driver.negotiate(1n << 5n)).toBe(false);
    expect(driver.status).toBe(ACK | DRIVER);
    expect(transport.counters().badStatus).toBe(1);
  });

  it('refuses FEATURES_OK for a feature that was not offered, in either window or beyond', () => {
    const { driver } = setup();
    expect(driver.negotiate(V1 | (1n << 6n))).toBe(false);
    expect(driver.negotiate(V1 | (1n << 41n))).toBe(false);
    expect(driver.negotiate(V1 | (1n << 40n) | (1n << 5n))).toBe(true);
    driver.write(VIRTIO_MMIO_STATUS, 0);
    driver.addStatus(ACK | DRIVER);
    driver.writeFeatures(V1);
    driver.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
    driver.write(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    driver.addStatus(FEATURES_OK);
    expect(driver.status & FEATURES_OK).toBe(0);
  });

  it.each([
    ['DRIVER before ACKNOWLEDGE', 0, DRIVER],
    ['FEATURES_OK before DRIVER', ACK, ACK | FEATURES_OK],
    ['DRIVER_OK before FEATURES_OK', ACK | DRIVER, ACK | DRIVER | DRIVER_OK],
    ['DRIVER_OK together with FEATURES_OK', ACK | DRIVER, ACK | DRIVER | FEATURES_OK | DRIVER_OK],
    ['clearing a bit without a reset', ACK | DRIVER, ACK],
    ['an undefined bit', ACK, ACK | 0x10],
    ['a bit above 8', ACK, ACK | 0x100],
  ])('refuses %s and counts it', (_name, from, to) => {
    const { driver, transport } = setup();
    if (from !== 0) driver.negotiate(V1);
    if (from !== 0) driver.write(VIRTIO_MMIO_STATUS, 0);
    if (from & ACK) driver.write(VIRTIO_MMIO_STATUS, ACK);
    if (from & DRIVER) driver.write(VIRTIO_MMIO_STATUS, ACK | DRIVER);
    expect(driver.status).toBe(from);
    driver.write(VIRTIO_MMIO_STATUS, to);
    expect(driver.status).toBe(from);
    expect(transport.counters().badStatus).toBe(1);
  });

  it('accepts FAILED at any point and never activates after it', () => {
    const { driver, transport } = setup();
    driver.addStatus(FAILED);
    expect(driver.status).toBe(FAILED);
    driver.negotiate(V1);
    driver.addStatus(FAILED);
    driver.addStatus(DRIVER_OK);
    expect(driver.status & FAILED).toBe(FAILED);
    expect(transport.state.load(9)).toBe(0);
  });

  it('keeps NEEDS_RESET the device’s: the driver can neither set nor clear it', () => {
    const { driver, transport } = setup();
    driver.write(VIRTIO_MMIO_STATUS, ACK | NEEDS_RESET);
    expect(driver.status).toBe(ACK);
    Atomics.or(transport.state.words, 0, NEEDS_RESET); // as the I/O thread does
    driver.addStatus(DRIVER); // Linux writes back what it read, NEEDS_RESET included
    expect(driver.status).toBe(ACK | DRIVER | NEEDS_RESET);
    driver.write(VIRTIO_MMIO_STATUS, ACK | DRIVER | FEATURES_OK);
    expect(driver.status & NEEDS_RESET).toBe(NEEDS_RESET);
  });

  it('resets everything the driver wrote on status 0, and tells the I/O thread', () => {
    const { driver, transport, control } = setup();
    const mock = { size: 64, descTable: 0x1000n, availRing: 0x1400n, usedRing: 0x2000n };
    driver.negotiate(V1 | (1n << 5n));
    driver.setupQueue(1, mock as never);
    driver.addStatus(DRIVER_OK);
    Atomics.or(transport.state.words, 6, 3);
    driver.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    control.read();
    driver.write(VIRTIO_MMIO_STATUS, 0);
    expect(control.read()).toBe(1n);
    expect(transport.state.load(8)).toBe(2); // resets: negotiate() reset once, then this one
    expect(driver.status).toBe(0);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
    expect(driver.read(VIRTIO_MMIO_DEVICE_FEATURES)).toBe(Number(INFO.availFeatures & 0xffff_ffffn));
    expect(transport.state.driverFeatures()).toBe(0n);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 1);
    expect(driver.read(VIRTIO_MMIO_QUEUE_READY)).toBe(0);
    expect(transport.state.queueRegisters(1)).toEqual({
      size: 64,
      ready: false,
      desc: [0, 0],
      avail: [0, 0],
      used: [0, 0],
    });
    expect(driver.read(VIRTIO_MMIO_QUEUE_SEL)).toBe(0);
  });
});

describe('queue registers', () => {
  it('shows each queue’s maximum size, and 0 for a queue that does not exist', () => {
    const { driver } = setup();
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 0);
    expect(driver.read(VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(256);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 1);
    expect(driver.read(VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(64);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 2);
    expect(driver.read(VIRTIO_MMIO_QUEUE_NUM_MAX)).toBe(0);
    expect(driver.read(VIRTIO_MMIO_QUEUE_READY)).toBe(0);
  });

  it('stores size and the three 64-bit areas during setup', () => {
    const { driver, transport } = setup();
    driver.negotiate(V1);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 1);
    const writes: [number, number][] = [
      [VIRTIO_MMIO_QUEUE_NUM, 32],
      [VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000],
      [VIRTIO_MMIO_QUEUE_DESC_HIGH, 1],
      [VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x2000],
      [VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 2],
      [VIRTIO_MMIO_QUEUE_USED_LOW, 0xffff_f000],
      [VIRTIO_MMIO_QUEUE_USED_HIGH, 3],
      [VIRTIO_MMIO_QUEUE_READY, 1],
    ];
    for (const [reg, value] of writes) driver.write(reg, value);
    expect(transport.state.queueRegisters(1)).toEqual({
      size: 32,
      ready: true,
      desc: [0x1000, 1],
      avail: [0x2000, 2],
      used: [0xffff_f000, 3],
    });
    expect(driver.read(VIRTIO_MMIO_QUEUE_READY)).toBe(1);
    expect(transport.counters().badWrite).toBe(0);
  });

  it('refuses queue configuration before FEATURES_OK, after DRIVER_OK, on a ready queue, for no queue', () => {
    const { driver, transport } = setup();
    driver.write(VIRTIO_MMIO_QUEUE_NUM, 16); // status 0
    driver.negotiate(V1);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 7);
    driver.write(VIRTIO_MMIO_QUEUE_NUM, 16); // no queue 7
    driver.write(VIRTIO_MMIO_QUEUE_READY, 1);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 0);
    driver.write(VIRTIO_MMIO_QUEUE_READY, 1);
    driver.write(VIRTIO_MMIO_QUEUE_NUM, 16); // ready
    driver.write(VIRTIO_MMIO_QUEUE_READY, 2); // not 0 or 1
    driver.addStatus(DRIVER_OK);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 1);
    driver.write(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000); // after DRIVER_OK
    driver.write(VIRTIO_MMIO_QUEUE_READY, 1);
    driver.write(VIRTIO_MMIO_QUEUE_SEL, 0);
    driver.write(VIRTIO_MMIO_QUEUE_READY, 0); // disabling after DRIVER_OK
    expect(transport.counters().badWrite).toBe(8);
    expect(transport.state.queueRegisters(0).size).toBe(256);
    expect(transport.state.queueRegisters(0).ready).toBe(true);
    expect(transport.state.queueRegisters(1).desc).toEqual([0, 0]);
  });

  it('lets the driver disable a queue before DRIVER_OK, as Linux does when it tears queues down', () => {
    const { driver, transport } = setup();
    driver.negotiate(V1);
    driver.write(VIRTIO_MMIO_QUEUE_READY, 1);
    driver.write(VIRTIO_MMIO_QUEUE_READY, 0);
    expect(driver.read(VIRTIO_MMIO_QUEUE_READY)).toBe(0);
    driver.write(VIRTIO_MMIO_STATUS, 0);
    driver.write(VIRTIO_MMIO_QUEUE_READY, 0);
    expect(transport.counters().badWrite).toBe(0);
  });
});

describe('QueueNotify', () => {
  it('forwards a notification that reached the transport to the queue’s eventfd', () => {
    const { driver, transport, notify } = setup();
    driver.write(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    driver.write(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    expect(notify[1]!.read()).toBe(2n);
    expect(notify[0]!.read()).toBe(0n);
    expect(transport.counters().notifyForwarded).toBe(2);
  });

  it('counts a notification naming no queue', () => {
    const { driver, transport, notify } = setup();
    driver.write(VIRTIO_MMIO_QUEUE_NOTIFY, 2);
    driver.write(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff_ffff);
    expect(notify.map((n) => n.read())).toEqual([0n, 0n]);
    expect(transport.counters().badNotify).toBe(2);
  });

  it('counts a notification it has nowhere to send', () => {
    const transport = VirtioMmioTransport.create(INFO);
    new MmioDriver(transport).write(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    expect(transport.counters().notifyUnrouted).toBe(1);
  });
});

describe('interrupts', () => {
  it('shows the bits the device set and clears those the driver acknowledges', () => {
    const { driver, transport } = setup();
    Atomics.or(transport.state.words, 6, 3);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(3);
    driver.write(VIRTIO_MMIO_INTERRUPT_ACK, 1);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(2);
    driver.write(VIRTIO_MMIO_INTERRUPT_ACK, 0xffff_fffe);
    expect(driver.read(VIRTIO_MMIO_INTERRUPT_STATUS)).toBe(0);
  });
});

describe('configuration space', () => {
  it('reads 8-, 16-, 32- and 64-bit fields little-endian', () => {
    const { transport } = setup();
    for (const size of [1, 2, 4, 8]) {
      const data = new Uint8Array(size);
      transport.read(VIRTIO_MMIO_CONFIG + 8, data);
      expect([...data]).toEqual([...INFO.configSpace.slice(8, 8 + size)]);
    }
  });

  it('reads zeros past its end and counts it; ignores and counts writes', () => {
    const { transport } = setup();
    const data = new Uint8Array(4).fill(0xff);
    transport.read(VIRTIO_MMIO_CONFIG + 22, data);
    expect([...data]).toEqual([0, 0, 0, 0]);
    transport.read(VIRTIO_MMIO_CONFIG + 0xeff, new Uint8Array(1));
    transport.read(VIRTIO_MMIO_CONFIG, new Uint8Array(3));
    transport.write(VIRTIO_MMIO_CONFIG, Uint8Array.of(9));
    expect(transport.state.config[0]).toBe(1);
    expect(transport.counters().badConfigAccess).toBe(4);
  });

  it('shows the generation counter', () => {
    const { driver, transport } = setup();
    expect(driver.read(VIRTIO_MMIO_CONFIG_GENERATION)).toBe(0);
    Atomics.add(transport.state.words, 7, 2);
    expect(driver.read(VIRTIO_MMIO_CONFIG_GENERATION)).toBe(2);
  });
});

describe('sharing between threads', () => {
  it('gives every view attached to the shared form the same registers', () => {
    const { transport } = setup();
    const other = VirtioMmioTransport.attach(structuredClone(transport.shared));
    new MmioDriver(other).negotiate(V1);
    expect(new MmioDriver(transport).status).toBe(ACK | DRIVER | FEATURES_OK);
    expect(other.info).toEqual(transport.info);
  });

  it('refuses a shared form that is not one (BAD_SHARED_STATE)', () => {
    const { transport } = setup();
    const bad = [
      null,
      { ...transport.shared, state: new SharedArrayBuffer(8) },
      { ...transport.shared, info: { ...INFO, queueMaxSizes: [3] } },
      { ...transport.shared, notifyFds: [-1] },
    ];
    for (const shared of bad) {
      expect(() => VirtioMmioTransport.attach(shared as never)).toThrow(
        expect.objectContaining({ code: 'BAD_SHARED_STATE' }),
      );
      expect(() => VirtioMmioTransport.attach(shared as never)).toThrow(VirtioDevicesError);
    }
  });
});

describe('create() arguments', () => {
  it.each([
    ['device type 0', { ...INFO, deviceType: 0 }, RangeError],
    ['no queues', { ...INFO, queueMaxSizes: [] }, RangeError],
    ['a queue size that is not a power of two', { ...INFO, queueMaxSizes: [100] }, RangeError],
    ['a queue size above 32768', { ...INFO, queueMaxSizes: [65536] }, RangeError],
    ['features without VERSION_1', { ...INFO, availFeatures: 1n }, RangeError],
    ['features that are not a u64', { ...INFO, availFeatures: 1n << 64n }, RangeError],
    ['a configuration space past the window', { ...INFO, configSpace: new Uint8Array(3841) }, RangeError],
  ])('refuses %s', (_name, info, type) => {
    expect(() => VirtioMmioTransport.create(info as VirtioDeviceInfo)).toThrow(type);
  });

  it('refuses a notify eventfd list that does not cover every queue', () => {
    expect(() => VirtioMmioTransport.create(INFO, { notifyFds: [3] })).toThrow(RangeError);
    expect(() => VirtioMmioTransport.create(INFO, { controlFd: -1 })).toThrow(TypeError);
  });
});
