/*
 * The test guest's program, in user mode: read the command line, find the
 * devices, run the workloads it names in order, print one results line, end.
 */
#include "clock.h"
#include "config.h"
#include "conformance.h"
#include "console.h"
#include "end.h"
#include "kernel.h"
#include "memory.h"
#include "results.h"
#include "workloads.h"

static struct config cfg;
static struct virtio_mmio_dev devices[MAX_DEVICES];
static u32 device_count;

/* Drivers, set up on first use (and again after conformance checks reset the devices). */
static struct virtio_blk blk;
static struct virtio_net net;
static struct virtio_rng rng;
static bool blk_ready, net_ready, rng_ready;

static char error_text[160];

static void fail_setup(const char *what, const char *detail, usize detail_len) {
  struct strbuf sb = STRBUF(error_text);
  sb_str(&sb, what);
  sb_mem(&sb, detail, detail_len);
  result_error(error_text);
}

static struct virtio_mmio_dev *find_device(u32 device_id) {
  for (u32 i = 0; i < device_count; i++)
    if (devices[i].device_id == device_id && devices[i].version == 2) return &devices[i];
  return NULL;
}

/* Sets up the driver a workload needs; false (and the workload failed) when there is no such device. */
static bool need(u32 device_id, struct work_result *r) {
  bool *ready = device_id == VIRTIO_ID_BLOCK ? &blk_ready : device_id == VIRTIO_ID_NET ? &net_ready : &rng_ready;
  if (*ready) return true;
  struct virtio_mmio_dev *dev = find_device(device_id);
  if (!dev) {
    result_fail(r, "no such virtio-mmio device (version 2) on the command line");
    return false;
  }
  u16 q = (u16)cfg.queue_size;
  *ready = device_id == VIRTIO_ID_BLOCK ? virtio_blk_init(&blk, dev, q)
           : device_id == VIRTIO_ID_NET ? virtio_net_init(&net, dev, q)
                                        : virtio_rng_init(&rng, dev, q);
  if (!*ready) result_fail(r, "driver setup failed (feature negotiation or queue setup)");
  return *ready;
}

static void run_conformance(struct work_result *r) {
  (void)r;
  conformance_run(&cfg, devices, device_count);
  blk_ready = net_ready = rng_ready = false; /* the checks leave every device reset */
}
static void run_blk_read(struct work_result *r) { work_blk_read(&cfg, &blk, r); }
static void run_blk_write(struct work_result *r) { work_blk_write(&cfg, &blk, r); }
static void run_blk_rand(struct work_result *r) { work_blk_rand(&cfg, &blk, r); }
static void run_net_tx(struct work_result *r) { work_net_tx(&cfg, &net, r); }
static void run_net_rx(struct work_result *r) { work_net_rx(&cfg, &net, r); }
static void run_rng(struct work_result *r) { work_rng(&cfg, &rng, r); }
static void run_pio(struct work_result *r) { work_pio(&cfg, r); }
static void run_mmio(struct work_result *r) { work_mmio(&cfg, r); }
static void run_idle(struct work_result *r) { work_idle(&cfg, r); }

/* Every workload: its name on the command line, the device it needs (0: none), and what runs it. */
static const struct {
  const char *name;
  u32 device_id;
  void (*run)(struct work_result *r);
} workloads[] = {
    {"conformance", 0, run_conformance},
    {"blk-read", VIRTIO_ID_BLOCK, run_blk_read},
    {"blk-write", VIRTIO_ID_BLOCK, run_blk_write},
    {"blk-rand", VIRTIO_ID_BLOCK, run_blk_rand},
    {"net-tx", VIRTIO_ID_NET, run_net_tx},
    {"net-rx", VIRTIO_ID_NET, run_net_rx},
    {"rng", VIRTIO_ID_RNG, run_rng},
    {"pio", 0, run_pio},
    {"mmio", 0, run_mmio},
    {"idle", 0, run_idle},
};

static void run(const struct work_name *w) {
  for (usize i = 0; i < ARRAY_SIZE(workloads); i++) {
    if (!str_eq(w->name, w->len, workloads[i].name)) continue;
    struct work_result *r = result_begin(workloads[i].name);
    if (!r) {
      result_error("too many workloads");
      return;
    }
    if (workloads[i].device_id == 0 || need(workloads[i].device_id, r)) workloads[i].run(r);
    return;
  }
  fail_setup("unknown workload: ", w->name, w->len);
}

void user_main(const struct hvm_start_info *start_info) {
  struct cmdline_word bad;
  const char *cmdline = "";
  if (start_info->magic != HVM_START_MAGIC_VALUE) result_error("no PVH start info (bad magic)");
  else if (start_info->cmdline_paddr) cmdline = (const char *)start_info->cmdline_paddr;
  if (!config_parse(&cfg, cmdline, &bad)) fail_setup("bad command line word: ", bad.key, (usize)(bad.value + bad.value_len - bad.key));
  else if (!memory_init(start_info)) result_error("no RAM after the image in the PVH memory map");
  else if (!clock_available()) result_error("no kvmclock (KVM_FEATURE_CLOCKSOURCE2): nothing could be timed");
  else {
    for (u32 i = 0; i < cfg.device_count; i++) {
      const struct virtio_mmio_entry *e = &cfg.devices[i];
      struct virtio_mmio_dev *dev = &devices[device_count];
      if (!virtio_mmio_probe(dev, e->base, e->size, e->irq)) {
        result_device("none", e->base, e->irq, 0);
        continue;
      }
      device_count++;
      result_device(virtio_device_name(dev->device_id), e->base, e->irq, dev->version);
    }
    for (u32 i = 0; i < cfg.work_count; i++) run(&cfg.work[i]);
  }
  results_print();
  end_vm();
}
