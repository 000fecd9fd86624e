/* kvmclock: enabled once in kernel mode (one MSR write), read in user mode. */
#include "clock.h"
#include "kernel.h"

#define KVM_CPUID_SIGNATURE 0x40000000
#define KVM_CPUID_FEATURES 0x40000001
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

/* The layout the hypervisor writes (Linux's struct pvclock_vcpu_time_info). */
struct pvclock_vcpu_time_info {
  u32 version;
  u32 pad0;
  u64 tsc_timestamp;
  u64 system_time;
  u32 tsc_to_system_mul;
  s8 tsc_shift;
  u8 flags;
  u8 pad[2];
};

static volatile struct pvclock_vcpu_time_info pvclock __attribute__((aligned(64)));
static bool kvmclock_on;

static void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

bool kvmclock_init(void) {
  u32 a, b, c, d;
  cpuid(KVM_CPUID_SIGNATURE, &a, &b, &c, &d);
  /* "KVMKVMKVM\0\0\0" in ebx, ecx, edx */
  if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d || a < KVM_CPUID_FEATURES) return false;
  cpuid(KVM_CPUID_FEATURES, &a, &b, &c, &d);
  if (!(a & KVM_FEATURE_CLOCKSOURCE2)) return false;
  u64 value = (u64)&pvclock | 1; /* bit 0: enable */
  __asm__ volatile("wrmsr" : : "c"(MSR_KVM_SYSTEM_TIME_NEW), "a"((u32)value), "d"((u32)(value >> 32)));
  kvmclock_on = true;
  return true;
}

bool clock_available(void) { return kvmclock_on; }

u64 clock_ns(void) {
  if (!kvmclock_on) return 0;
  u32 version;
  u64 tsc, stamp, system_time;
  u32 mul;
  s8 shift;
  do {
    version = pvclock.version;
    barrier();
    stamp = pvclock.tsc_timestamp;
    system_time = pvclock.system_time;
    mul = pvclock.tsc_to_system_mul;
    shift = pvclock.tsc_shift;
    tsc = rdtsc();
    barrier();
  } while ((version & 1) || version != pvclock.version);
  u64 delta = tsc - stamp;
  delta = shift < 0 ? delta >> -shift : delta << shift;
  return system_time + (u64)(((unsigned __int128)delta * mul) >> 32);
}
