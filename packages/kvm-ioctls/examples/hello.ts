import { Kvm, VcpuThread } from '@tsvmm/kvm-ioctls';
import { addressOf, mmap } from '@tsvmm/vmm-sys-util';

/** Runs a tiny real-mode guest that prints "Hi!\n" on the serial port, and returns what it printed. */
export async function hello(): Promise<string> {
  // A VM with 64 KiB of RAM at guest physical address 0.
  using kvm = Kvm.open();
  using vm = kvm.createVm();
  const ram = mmap(0x1_0000);
  vm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guest_phys_addr: 0n,
    memory_size: 0x1_0000n,
    userspace_addr: addressOf(ram),
  });

  // The guest: `rep outsb` of "Hi!\n" to port 0x3f8, then `hlt`, at 0000:1000 in real mode.
  // biome-ignore format: one instruction per line
  new Uint8Array(ram).set([
    0xbe, 0x0c, 0x10, //       mov $msg, %si
    0xba, 0xf8, 0x03, //       mov $0x3f8, %dx
    0xb9, 0x04, 0x00, //       mov $4, %cx
    0xf3, 0x6e,       //       rep outsb
    0xf4,             //       hlt
    0x48, 0x69, 0x21, 0x0a, // msg: "Hi!\n"
  ], 0x1000);
  using vcpu = vm.createVcpu(0);
  const sregs = vcpu.getSregs();
  vcpu.setSregs({ ...sregs, cs: { ...sregs.cs, base: 0n, selector: 0 } });
  vcpu.setRegs({ ...vcpu.getRegs(), rip: 0x1000n, rflags: 0x2n });

  // KVM_RUN blocks: run the vCPU on a worker thread whose handler module sees every exit.
  const thread = VcpuThread.start({ vcpu, handler: new URL('./hello-handler.mjs', import.meta.url) });
  const result = await thread.done;
  if (result.kind !== 'HandlerStop') throw new Error(`the guest did not halt: ${result.kind}`);
  return result.detail as string;
}
