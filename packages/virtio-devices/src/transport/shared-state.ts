/**
 * The virtio-mmio transport's state in shared memory: one SharedArrayBuffer
 * per device, which every vCPU thread (register accesses) and the I/O thread
 * (activation, interrupts, configuration changes) view.
 *
 * Layout, in Int32 words (little-endian host; every word accessed with
 * `Atomics`), followed by the configuration space bytes:
 *
 * | word               | what                                                                |
 * | ------------------ | ------------------------------------------------------------------- |
 * | 0 `status`         | the device status the driver reads                                  |
 * | 1, 2               | DeviceFeaturesSel, DriverFeaturesSel                                |
 * | 3, 4               | the driver's accepted features, low and high 32 bits                |
 * | 5 `queueSel`       | QueueSel                                                            |
 * | 6 `interrupt`      | InterruptStatus (bits set by the I/O thread, cleared by InterruptACK) |
 * | 7 `generation`     | ConfigGeneration                                                    |
 * | 8 `resets`         | incremented by a vCPU on each reset of an activated device          |
 * | 9 `activations`    | incremented by a vCPU when the driver sets DRIVER_OK                |
 * | 10 `lock`          | a `SharedLock` over multi-word register updates                     |
 * | 11 `shmSel`        | SHMSel                                                              |
 * | 16..31             | counters ({@link COUNTER})                                          |
 * | 32 + 8·q ..        | queue q: size, ready, desc lo/hi, avail lo/hi, used lo/hi           |
 * | then, in bytes     | the configuration space                                             |
 */

/** Word indexes of the transport's scalar state. */
export const WORD = {
  status: 0,
  deviceFeaturesSel: 1,
  driverFeaturesSel: 2,
  driverFeaturesLow: 3,
  driverFeaturesHigh: 4,
  queueSel: 5,
  interrupt: 6,
  generation: 7,
  resets: 8,
  activations: 9,
  lock: 10,
  shmSel: 11,
} as const;

/** Word indexes of the counters the transport keeps (guest mistakes are counted, never fatal). */
export const COUNTER = {
  /** An access of the wrong size or alignment for the register. */
  badAccess: 16,
  /** A read of a write-only or unknown register, or a write of a read-only or unknown one. */
  badRegister: 17,
  /** A configuration space access outside the space. */
  badConfigAccess: 18,
  /** A status write the state machine refused. */
  badStatus: 19,
  /** A feature, queue or selector write refused in the current state. */
  badWrite: 20,
  /** A QueueNotify with a value that names no queue. */
  badNotify: 21,
  /** A QueueNotify that reached the transport (no ioeventfd took it) and was forwarded. */
  notifyForwarded: 22,
  /** Errors thrown by the device on the I/O thread (each sets NEEDS_RESET). */
  deviceErrors: 23,
  /** Interrupts injected. */
  interrupts: 24,
} as const;

/** The first word of the queue blocks. */
export const QUEUE_BASE_WORD = 32;
/** Words per queue. */
export const QUEUE_WORDS = 8;
/** Word offsets inside a queue block. */
export const QUEUE_WORD = {
  size: 0,
  ready: 1,
  descLow: 2,
  descHigh: 3,
  availLow: 4,
  availHigh: 5,
  usedLow: 6,
  usedHigh: 7,
} as const;

/** The byte offset of the configuration space in the shared buffer of a device with `queueCount` queues. */
export function configOffset(queueCount: number): number {
  return (QUEUE_BASE_WORD + QUEUE_WORDS * queueCount) * 4;
}
