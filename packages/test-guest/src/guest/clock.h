/*
 * Time in user mode from KVM's paravirtual clock (kvmclock): the hypervisor
 * keeps a pvclock_vcpu_time_info up to date in guest memory, and user mode
 * turns the TSC into nanoseconds with it, as Linux's vDSO does. Both VMMs run
 * on KVM, so both guests read the same clock the same way.
 */
#ifndef TG_CLOCK_H
#define TG_CLOCK_H
#include "common.h"

/* Whether kvmclock is running (set in kernel mode, read in user mode). */
bool clock_available(void);
/* Nanoseconds since some fixed point; 0 when no clock is available. */
u64 clock_ns(void);

#endif
