/* virtio-rng throughput. */
#include "clock.h"
#include "memory.h"
#include "workloads.h"

#define RNG_DEPTH 8
#define RNG_TIMEOUT_NS 5000000000ULL

void work_rng(const struct config *cfg, struct virtio_rng *rng, struct work_result *r) {
  u32 req = (u32)cfg->rng_req, depth = RNG_DEPTH < rng->vq.size ? RNG_DEPTH : rng->vq.size;
  u8 *bufs = mem_alloc((u64)req * depth, PAGE_SIZE);
  if (!bufs) {
    result_fail(r, "out of memory for buffers");
    return;
  }
  /*
   * Each buffer is zeroed before it is queued, and the zero bytes of what the
   * device wrote are counted: random bytes are zero 1 time in 256, so a
   * device that reports bytes it never wrote is caught.
   */
  u64 asked = 0, zeros = 0;
  u32 in_flight = 0;
  u64 t0 = clock_ns();
  for (u32 i = 0; i < depth && asked < cfg->rng_bytes; i++, in_flight++) {
    memset(bufs + (u64)req * i, 0, req);
    virtio_rng_request(rng, bufs + (u64)req * i, req, bufs + (u64)req * i);
    asked += req;
  }
  virtq_kick(&rng->vq);
  while (in_flight > 0) {
    u32 used;
    u8 *buf = virtq_wait_used(&rng->vq, &used, RNG_TIMEOUT_NS);
    if (!buf) {
      result_fail(r, "request timed out");
      break;
    }
    bool added = false;
    for (; buf != NULL; buf = virtq_get_used(&rng->vq, &used)) {
      in_flight--;
      if (used == 0 || used > req) {
        r->errors++;
        result_fail(r, used ? "used length larger than the buffer" : "a request came back empty");
      } else {
        for (u32 i = 0; i < used; i++) zeros += buf[i] == 0;
        r->bytes += used;
      }
      r->ops++;
      if (asked < cfg->rng_bytes) {
        memset(buf, 0, req);
        virtio_rng_request(rng, buf, req, buf);
        asked += req;
        in_flight++;
        added = true;
      }
    }
    if (added) virtq_kick(&rng->vq);
  }
  r->ns = clock_ns() - t0;
  /* Expect bytes/256 zeros; allow a wide margin (the count is binomial, its spread is ~sqrt). */
  if (r->bytes >= 65536 && (zeros * 256 > r->bytes * 2 || zeros * 512 < r->bytes)) {
    r->errors++;
    result_fail(r, "the bytes do not look random (zero bytes far from 1 in 256)");
  }
}
