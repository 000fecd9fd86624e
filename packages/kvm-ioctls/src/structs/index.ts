/**
 * Every struct layout of the KVM API this package passes, and `layouts`, the
 * table of them by C name (what the layout test walks).
 */
import type { StructType } from '../layout.js';
import { kvm_debug_exit_arch, kvm_run } from './kvm-run.js';
import * as vcpu from './vcpu.js';
import * as vm from './vm.js';

export * from './kvm-run.js';
export * from './vcpu.js';
export * from './vm.js';

/** Every named struct layout, by its C name. */
export const layouts: Readonly<Record<string, StructType<unknown>>> = Object.fromEntries(
  [...Object.values(vcpu), ...Object.values(vm), kvm_run, kvm_debug_exit_arch].flatMap((v) =>
    typeof v === 'object' && v !== null && 'fields' in v && typeof v.name === 'string' ? [[v.name, v]] : [],
  ),
);
