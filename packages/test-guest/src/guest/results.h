/*
 * What the guest reports: one line on the serial console,
 *
 *   TSVMM-TEST-GUEST {"v":1,"status":"ok"|"fail"|"error", ...}
 *
 * with the devices found, one entry per workload (ok, ops, bytes, ns,
 * errors, note) and one per conformance check (id, ok, msg). The host finds
 * the line by its prefix in whatever else the console carries.
 */
#ifndef TG_RESULTS_H
#define TG_RESULTS_H
#include "common.h"
#include "strbuf.h"

#define NOTE_SIZE 120

struct work_result {
  const char *work;
  bool ok;
  u64 ops;    /* requests, packets or exits */
  u64 bytes;  /* payload moved */
  u64 ns;     /* time the measured part took (kvmclock) */
  u64 errors; /* failed verifications, bad statuses, lost packets */
  char note[NOTE_SIZE];
};

/* Starts a workload's entry; returns it for the workload to fill. NULL when the table is full. */
struct work_result *result_begin(const char *work);
/* Marks a workload failed with a reason (the first reason is kept). */
void result_fail(struct work_result *r, const char *why);
/* Records one conformance check: `id` (copied), whether it passed, and why not. */
void check(const char *id, bool ok, const char *msg);
/* Same, with the detail built in a buffer by the caller. */
void check_detail(const char *id, bool ok, const struct strbuf *detail);
/* Records a device found on the command line. */
void result_device(const char *type, u64 base, u32 irq, u32 version);
/* Sets a setup failure: status "error" with this message. */
void result_error(const char *message);
/* Prints the one results line. */
void results_print(void);

#endif
