/**
 * Local APIC setup a PC's firmware does: LINT0 delivers the legacy PIC's
 * interrupts (ExtINT) and LINT1 the NMI line, as the MP specification's
 * default configuration expects. The register page is `kvm_lapic_state`.
 */
import type { KvmLapicState } from '@tsvmm/kvm-ioctls';

export const APIC_LVT0 = 0x350;
export const APIC_LVT1 = 0x360;
export const APIC_MODE_NMI = 0x4;
export const APIC_MODE_EXTINT = 0x7;

/** Sets the delivery mode (bits 10:8) of an LVT register value, keeping its other bits. */
export function withDeliveryMode(lvt: number, mode: number): number {
  return ((lvt & ~0x700) | (mode << 8)) >>> 0;
}

/** A copy of `lapic` with LINT0 as ExtINT and LINT1 as NMI. */
export function configureLints(lapic: KvmLapicState): KvmLapicState {
  const regs = lapic.regs.slice();
  const view = new DataView(regs.buffer);
  view.setUint32(APIC_LVT0, withDeliveryMode(view.getUint32(APIC_LVT0, true), APIC_MODE_EXTINT), true);
  view.setUint32(APIC_LVT1, withDeliveryMode(view.getUint32(APIC_LVT1, true), APIC_MODE_NMI), true);
  return { regs };
}
