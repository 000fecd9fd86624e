import { Kvm, type VcpuExit, type VcpuFd } from '@tsvmm/kvm-ioctls';
import { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';
import { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BOOT_GDT,
  configureVcpu,
  gdtBytes,
  SELECTOR,
  setupBootRegisters,
  writeIdentityMap,
} from '../src/index.js';

const GDT = 0x500n;
const IDT = 0x520n;
const ZERO_PAGE = 0x7000n;
const STACK = 0x8ff0n;
const PML4 = 0x9000n;
const START_INFO = 0x6000n;
const CODE = 0x100000n;
const REPORT = 0x10;

// Each guest reports values with `out dx, eax` to port 0x10.
const SET_DX = [0x66, 0xba, REPORT, 0x00]; // mov dx, 0x10
const OUT = [0xef]; // out dx, eax
// mov eax,1; cpuid; mov eax,ebx; mov dx,0x10 (cpuid clobbers edx); out
const REPORT_CPUID1_EBX = [0xb8, 1, 0, 0, 0, 0x0f, 0xa2, 0x89, 0xd8, ...SET_DX, ...OUT];
const LONG_MODE_GUEST = [
  ...SET_DX,
  0x48,
  0x89,
  0xf0,
  ...OUT, // mov rax, rsi        → the zero page address
  0x8b,
  0x06,
  ...OUT, // mov eax, [rsi]              → what the VMM put there (paging works)
  0x8c,
  0xc8,
  ...OUT, // mov eax, cs                 → __BOOT_CS
  0x0f,
  0x20,
  0xc0,
  ...OUT, // mov rax, cr0
  0x48,
  0x89,
  0xe0,
  ...OUT, // mov rax, rsp
  ...REPORT_CPUID1_EBX,
];
const PVH_GUEST = [
  ...SET_DX,
  0x89,
  0xd8,
  ...OUT, // mov eax, ebx     → hvm_start_info address
  0x8b,
  0x03,
  ...OUT, // mov eax, [ebx]   → its first word
  0x8c,
  0xc8,
  ...OUT, // mov eax, cs
  0x0f,
  0x20,
  0xc0,
  ...OUT, // mov eax, cr0
  ...REPORT_CPUID1_EBX,
];

interface Machine {
  kvm: Kvm;
  vcpus: VcpuFd[];
  mem: GuestMemoryMmap;
  close(): void;
}

let machine: Machine | undefined;
afterEach(() => {
  machine?.close();
  machine = undefined;
});

function createMachine(vcpuCount: number, code: number[]): Machine {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  vm.setTssAddress(0xfffbd000);
  vm.createIrqchip();
  const mem = GuestMemoryMmap.fromRanges([{ start: 0n, size: 2 << 20 }]);
  const region = mem.regions[0]!;
  vm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guest_phys_addr: 0n,
    memory_size: BigInt(region.size),
    userspace_addr: region.hostAddress!,
  });
  mem.writeSlice(GDT, gdtBytes());
  mem.writeSlice(CODE, Uint8Array.from(code));
  const host = { supportedCpuid: kvm.getSupportedCpuid(), msrIndexList: kvm.getMsrIndexList() };
  const vcpus: VcpuFd[] = [];
  for (let id = 0; id < vcpuCount; id++) {
    const vcpu = vm.createVcpu(id);
    configureVcpu(vcpu, host, { id, count: vcpuCount });
    vcpus.push(vcpu);
  }
  return {
    kvm,
    vcpus,
    mem,
    close() {
      for (const v of vcpus) v.close();
      vm.close();
      kvm.close();
      mem.close();
    },
  };
}

/** Runs until `n` reports arrived; any other exit fails the test with its description. */
function reports(vcpu: VcpuFd, n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const exit: VcpuExit = vcpu.run();
    if (exit.kind !== 'IoOut' || exit.port !== REPORT || exit.size !== 4) {
      throw new Error(
        `unexpected exit ${exit.kind} ${JSON.stringify(exit, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`,
      );
    }
    out.push(new DataView(exit.data.buffer, exit.data.byteOffset, 4).getUint32(0, true));
  }
  return out;
}

const tables = { gdtBase: GDT, gdtLimit: BOOT_GDT.length * 8 - 1, idtBase: IDT };

describe.skipIf(!kvmAvailable)('boot entries on a real vCPU', () => {
  it('enters the 64-bit entry in long mode with the zero page in RSI, identity-mapped', () => {
    machine = createMachine(2, LONG_MODE_GUEST);
    machine.mem.writeU32(ZERO_PAGE, 0xfeedface);
    const pml4 = writeIdentityMap(machine.mem, { base: PML4 });
    setupBootRegisters(
      machine.vcpus[0]!,
      { kind: 'long-mode', entry: CODE, bootParams: ZERO_PAGE, pml4, stack: STACK },
      tables,
    );
    const [rsi, word, cs, cr0, rsp, cpuid1] = reports(machine.vcpus[0]!, 6);
    expect(rsi).toBe(Number(ZERO_PAGE));
    expect(word).toBe(0xfeedface);
    expect(cs).toBe(SELECTOR.CODE64);
    expect((cr0! & 0x80000001) >>> 0).toBe(0x80000001); // PG and PE
    expect(rsp).toBe(Number(STACK));
    expect(cpuid1! >>> 24).toBe(0); // APIC id of vCPU 0
    expect((cpuid1! >> 16) & 0xff).toBe(2); // two logical CPUs
    const sregs = machine.vcpus[0]!.getSregs();
    expect(sregs.efer & 0x500n).toBe(0x500n); // LME and LMA
  });

  it('enters the PVH entry in 32-bit protected mode with hvm_start_info in EBX', () => {
    machine = createMachine(1, PVH_GUEST);
    machine.mem.writeU32(START_INFO, 0x336ec578);
    setupBootRegisters(machine.vcpus[0]!, { kind: 'pvh', entry: CODE, startInfo: START_INFO }, tables);
    const [ebx, magic, cs, cr0, cpuid1] = reports(machine.vcpus[0]!, 5);
    expect(ebx).toBe(Number(START_INFO));
    expect(magic).toBe(0x336ec578);
    expect(cs).toBe(SELECTOR.CODE32);
    expect(cr0! & 0x80000001).toBe(1); // PE without PG
    expect((cpuid1! >> 16) & 0xff).toBe(1);
    expect(machine.vcpus[0]!.getRegs().rflags & 0x200n).toBe(0n); // interrupts off
  });

  it('gives an application processor its own APIC id in CPUID', () => {
    machine = createMachine(2, REPORT_CPUID1_EBX);
    const ap = machine.vcpus[1]!;
    setupBootRegisters(ap, { kind: 'pvh', entry: CODE, startInfo: START_INFO }, tables);
    ap.setMpState({ mp_state: 0 }); // RUNNABLE: start it directly instead of through INIT/SIPI
    const [ebx] = reports(ap, 1);
    expect(ebx! >>> 24).toBe(1);
    // and the LAPIC pins are wired like a PC's: LINT0 ExtINT, LINT1 NMI
    const lapic = new DataView(ap.getLapic().regs.buffer);
    expect((lapic.getUint32(0x350, true) >> 8) & 7).toBe(7);
    expect((lapic.getUint32(0x360, true) >> 8) & 7).toBe(4);
  });
});
