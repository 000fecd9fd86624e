/*
 * Conformance checks: what virtio 1.2 requires of a virtio-mmio device and
 * of virtio-blk, virtio-net and virtio-rng, checked from the driver's side
 * (the guest) and reported one check a line item in the results. Each check
 * names the requirement it tests; the same checks pass against QEMU.
 */
#ifndef TG_CONFORMANCE_H
#define TG_CONFORMANCE_H
#include "config.h"
#include "virtio-mmio.h"

/* Runs every check on every device; each device is left reset. */
void conformance_run(const struct config *cfg, struct virtio_mmio_dev *devices, u32 count);

#endif
