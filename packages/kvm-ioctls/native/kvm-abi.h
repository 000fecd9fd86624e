/* The tables kvm-abi.c builds from <linux/kvm.h>: name/value pairs, ended by a null name. */
#ifndef TSVMM_KVM_ABI_H
#define TSVMM_KVM_ABI_H

#ifdef __cplusplus
extern "C" {
#endif

struct kvm_table_entry {
  const char* name;
  unsigned long long value;
};

extern const struct kvm_table_entry kvm_sizes[];
extern const struct kvm_table_entry kvm_offsets[];
extern const struct kvm_table_entry kvm_constants[];

#ifdef __cplusplus
}
#endif

#endif
