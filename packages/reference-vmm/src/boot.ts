/**
 * Puts a kernel, its initrd, its command line and the boot data into guest
 * memory, and says how the boot processor enters it. The one place where the
 * boot protocol is chosen:
 *
 * | image | `auto` picks | also possible |
 * | --- | --- | --- |
 * | ELF with a PVH note | `pvh` (32-bit, hvm_start_info in EBX) | `elf` (64-bit, zero page in RSI) |
 * | ELF without it | `elf` | |
 * | bzImage | `bzimage` (64-bit entry at load address + 0x200) | |
 */
import {
  Cmdline,
  initrdAddressLimit,
  isaInterruptAssignments,
  type KernelLoadResult,
  loadCmdline,
  loadInitrd,
  loadKernel,
  memoryMapFromGuestMemory,
  mp_INT,
  writeBootParams,
  writeHvmStartInfo,
  writeMpTable,
} from '@tsvmm/linux-loader';
import { VIRTIO_MMIO_WINDOW_SIZE } from '@tsvmm/virtio-devices';
import type { GuestMemory } from '@tsvmm/vm-memory';
import {
  BOOT_GDT,
  type BootEntry,
  type DescriptorTables,
  gdtBytes,
  pageTableBytes,
  writeIdentityMap,
} from '@tsvmm/vm-vcpu-ref';
import type { BootProtocol } from './config.js';
import { VmmError } from './errors.js';
import {
  BOOT_STACK_POINTER,
  CMDLINE_ADDRESS,
  CMDLINE_MAX_SIZE,
  GDT_ADDRESS,
  IDT_ADDRESS,
  LEGACY_RESERVED,
  MPTABLE_ADDRESS,
  PAGE_TABLES_ADDRESS,
  START_INFO_ADDRESS,
  ZERO_PAGE_ADDRESS,
} from './layout.js';

/** The x86 kernel command line limit (COMMAND_LINE_SIZE, NUL included) when the image does not say. */
const DEFAULT_CMDLINE_CAPACITY = 2048;

/** What the guest needs loaded. */
export interface BootInput {
  kernel: string;
  initrd?: string | undefined;
  /** The whole command line, devices included. */
  cmdline: string;
  protocol: BootProtocol;
  vcpus: number;
  /**
   * virtio-mmio devices to announce: each becomes `virtio_mmio.device=4K@0x<address>:<irq>` on the
   * command line, and an IRQ above 15 gets an I/O APIC entry in the MP table.
   */
  virtioDevices?: readonly { address: bigint; irq: number }[];
  /** More command line arguments (e.g. `root=/dev/vda`), placed before any `--`. */
  extraArgs?: readonly string[];
}

/** What was loaded and how to enter it. */
export interface BootPlan {
  /** The protocol actually used. */
  protocol: Exclude<BootProtocol, 'auto'>;
  kernel: KernelLoadResult;
  initrd?: { address: bigint; size: number };
  entry: BootEntry;
  tables: DescriptorTables;
}

function bootError(message: string, cause?: unknown): VmmError {
  return new VmmError('BOOT', message, cause === undefined ? undefined : { cause });
}

function pickProtocol(requested: BootProtocol, kernel: KernelLoadResult): Exclude<BootProtocol, 'auto'> {
  if (requested === 'auto')
    return kernel.kind === 'bzimage' ? 'bzimage' : kernel.pvhEntry !== undefined ? 'pvh' : 'elf';
  if (requested === 'bzimage' && kernel.kind !== 'bzimage')
    throw bootError('--boot bzimage needs a bzImage, but the kernel is an ELF vmlinux');
  if ((requested === 'elf' || requested === 'pvh') && kernel.kind !== 'elf') {
    throw bootError(`--boot ${requested} needs an ELF vmlinux, but the kernel is a bzImage`);
  }
  if (requested === 'pvh' && kernel.pvhEntry === undefined) {
    throw bootError(
      '--boot pvh needs a kernel with a PVH entry (XEN_ELFNOTE_PHYS32_ENTRY; CONFIG_PVH=y), and this one has none',
    );
  }
  return requested;
}

/**
 * Loads everything and writes the boot data. Errors from the loader (an image
 * it cannot boot, a kernel that does not fit) come out as VmmError `KERNEL`,
 * `INITRD` or `BOOT` with the loader's error as `cause`.
 */
export function loadGuest(mem: GuestMemory, input: BootInput): BootPlan {
  let kernel: KernelLoadResult;
  try {
    kernel = loadKernel(mem, input.kernel);
  } catch (e) {
    throw new VmmError('KERNEL', `cannot load kernel ${input.kernel}: ${(e as Error).message}`, { cause: e });
  }
  const protocol = pickProtocol(input.protocol, kernel);

  const headerCapacity = kernel.setupHeader?.cmdlineSize;
  const capacity = Math.min(
    headerCapacity !== undefined && headerCapacity > 0 ? headerCapacity + 1 : DEFAULT_CMDLINE_CAPACITY,
    CMDLINE_MAX_SIZE,
  );
  let cmdline: { address: bigint; size: number };
  try {
    const line = Cmdline.from(input.cmdline, capacity);
    for (const arg of input.extraArgs ?? []) line.insertStr(arg);
    for (const d of input.virtioDevices ?? [])
      line.addVirtioMmioDevice(VIRTIO_MMIO_WINDOW_SIZE, d.address, d.irq);
    cmdline = loadCmdline(mem, CMDLINE_ADDRESS, line);
  } catch (e) {
    throw bootError(`bad kernel command line: ${(e as Error).message}`, e);
  }

  const bootData = [
    { start: 0n, end: 0x10000n }, // GDT, boot data, page tables
    { start: CMDLINE_ADDRESS, end: CMDLINE_ADDRESS + BigInt(CMDLINE_MAX_SIZE) },
    LEGACY_RESERVED,
  ];
  let initrd: { address: bigint; size: number } | undefined;
  if (input.initrd !== undefined) {
    try {
      initrd = loadInitrd(mem, input.initrd, {
        highestAddress: initrdAddressLimit(kernel),
        avoid: [kernel.kernelRange, ...bootData],
      });
    } catch (e) {
      throw new VmmError('INITRD', `cannot load initrd ${input.initrd}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  const e820 = memoryMapFromGuestMemory(mem, [LEGACY_RESERVED]);
  try {
    // KVM's default GSI routing sends ISA IRQ n (the in-kernel PIT is IRQ 0) to I/O APIC pin n.
    const ioapicId = input.vcpus;
    // ISA IRQs 0-15 as the MP specification's default; a virtio IRQ above 15 gets its pin too.
    const highIrqs = (input.virtioDevices ?? []).map((d) => d.irq).filter((irq) => irq > 15);
    writeMpTable(mem, MPTABLE_ADDRESS, {
      cpus: input.vcpus,
      ioapicId,
      interrupts: [
        ...isaInterruptAssignments(ioapicId, 0),
        ...highIrqs.map((irq) => ({
          kind: 'io' as const,
          type: mp_INT,
          sourceBusId: 0,
          sourceBusIrq: irq,
          destinationId: ioapicId,
          destinationPin: irq,
        })),
      ],
    });
    mem.writeSlice(GDT_ADDRESS, gdtBytes());
    mem.fill(IDT_ADDRESS, 8);
  } catch (e) {
    throw bootError(`cannot write the boot tables: ${(e as Error).message}`, e);
  }
  const tables: DescriptorTables = {
    gdtBase: GDT_ADDRESS,
    gdtLimit: BOOT_GDT.length * 8 - 1,
    idtBase: IDT_ADDRESS,
  };

  let entry: BootEntry;
  try {
    if (protocol === 'pvh') {
      writeHvmStartInfo(mem, START_INFO_ADDRESS, {
        cmdlineAddress: cmdline.address,
        memoryMap: e820,
        modules: initrd === undefined ? [] : [{ address: initrd.address, size: initrd.size }],
      });
      entry = { kind: 'pvh', entry: kernel.pvhEntry!, startInfo: START_INFO_ADDRESS };
    } else {
      writeBootParams(mem, ZERO_PAGE_ADDRESS, {
        kernel,
        cmdline,
        e820,
        ...(initrd === undefined ? {} : { initrd }),
      });
      if (PAGE_TABLES_ADDRESS + BigInt(pageTableBytes(4)) > 0x10000n)
        throw new RangeError('page tables overlap the command line area');
      const pml4 = writeIdentityMap(mem, { base: PAGE_TABLES_ADDRESS, gib: 4 });
      entry = {
        kind: 'long-mode',
        entry: kernel.entry64,
        bootParams: ZERO_PAGE_ADDRESS,
        pml4,
        stack: BOOT_STACK_POINTER,
      };
    }
  } catch (e) {
    throw bootError(`cannot write the boot data: ${(e as Error).message}`, e);
  }
  return { protocol, kernel, ...(initrd === undefined ? {} : { initrd }), entry, tables };
}
