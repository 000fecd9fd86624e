/* Block workloads: sequential reads and writes with large requests, random 4 KiB reads. */
#include "clock.h"
#include "memory.h"
#include "workloads.h"

#define RAND_BLOCK 4096
#define REQUEST_TIMEOUT_NS 5000000000ULL

/* The region blk-write wrote (its pattern differs from the image's): reads of it expect the write seed. */
static u64 written_start, written_end;
static u32 written_seed;

void pattern_fill(void *buf, u64 offset, u32 len, u32 seed) {
  u32 *w = buf;
  u64 first = offset / 4;
  for (u32 i = 0; i < len / 4; i++) w[i] = pattern_word(first + i, seed);
}

u64 pattern_check(const void *buf, u64 offset, u32 len, u32 seed, u64 *first_bad) {
  const u32 *w = buf;
  u64 first = offset / 4, bad = 0;
  for (u32 i = 0; i < len / 4; i++) {
    if (w[i] == pattern_word(first + i, seed)) continue;
    if (bad++ == 0) *first_bad = offset + 4ULL * i;
  }
  return bad;
}

u64 disk_check(const struct config *cfg, const void *buf, u64 offset, u32 len, u64 *first_bad) {
  u64 end = offset + len, bad = 0;
  for (u64 at = offset; at < end;) {
    bool in_written = at >= written_start && at < written_end;
    u64 stop = in_written ? (written_end < end ? written_end : end)
                          : (at < written_start && written_start < end ? written_start : end);
    bad += pattern_check((const u8 *)buf + (at - offset), at, (u32)(stop - at),
                         in_written ? written_seed : (u32)cfg->blk_seed, first_bad);
    at = stop;
  }
  return bad;
}

static void note_offset(struct work_result *r, const char *what, u64 offset) {
  char text[NOTE_SIZE];
  struct strbuf sb = STRBUF(text);
  sb_str(&sb, what);
  sb_hex(&sb, offset);
  result_fail(r, text);
}

/* Checks one completed request: status, used length, and for reads the data. */
static void finish(const struct config *cfg, struct work_result *r, const struct blk_request *q, u32 used,
                   bool write) {
  u32 expected_used = write ? 1 : q->len + 1; /* the bytes the device wrote: data (reads) and the status byte */
  u64 first_bad = 0, bad;
  r->ops++;
  if (q->status != VIRTIO_BLK_S_OK) {
    r->errors++;
    note_offset(r, "bad status at sector ", q->sector);
  } else if (used != expected_used) {
    r->errors++;
    note_offset(r, "wrong used length at sector ", q->sector);
  } else if (!write && (bad = disk_check(cfg, q->data, q->sector * SECTOR_SIZE, q->len, &first_bad)) != 0) {
    r->errors += bad;
    note_offset(r, "data mismatch at byte ", first_bad);
  }
}

/* What a pass of requests does: where each goes, how long it is, and whether it writes. */
struct plan {
  bool write;
  u32 seed;    /* the pattern writes fill in */
  u32 req;     /* bytes per request */
  u64 next;    /* sequential: the next offset */
  u64 end;     /* sequential: where the pass ends */
  u64 count;   /* random: requests still to issue */
  u64 blocks;  /* random: 4 KiB blocks on the disk (0: sequential) */
  u64 random;  /* random: PRNG state */
};

static u64 next_random(u64 *state);

/* The next request of the plan; false when there is none. */
static bool next_request(struct plan *p, u64 *offset, u32 *len) {
  if (p->blocks) {
    if (p->count == 0) return false;
    p->count--;
    *offset = next_random(&p->random) % p->blocks * RAND_BLOCK;
    *len = RAND_BLOCK;
    return true;
  }
  if (p->next >= p->end) return false;
  *offset = p->next;
  *len = p->end - p->next < p->req ? (u32)(p->end - p->next) : p->req;
  p->next += *len;
  return true;
}

/*
 * Runs a plan with cfg->blk_depth requests in flight: submit what fits, kick
 * once, wait for a completion, take every completion there is, repeat.
 * Writes fill each buffer with the pattern first; reads are verified as they
 * complete. Returns false on a timeout.
 */
static bool run_plan(const struct config *cfg, struct virtio_blk *blk, struct work_result *r, struct plan *p) {
  u32 depth = (u32)cfg->blk_depth;
  struct blk_request *reqs = mem_alloc(sizeof *reqs * depth, 64);
  u8 *bufs = mem_alloc((u64)p->req * depth, PAGE_SIZE);
  struct blk_request **idle = mem_alloc(sizeof *idle * depth, 8);
  if (!reqs || !bufs || !idle) {
    result_fail(r, "out of memory for buffers");
    return false;
  }
  u32 idle_count = 0;
  for (u32 i = 0; i < depth; i++) {
    reqs[i].data = bufs + (u64)p->req * i;
    idle[idle_count++] = &reqs[i];
  }
  u64 offset = 0;
  u32 len = 0;
  bool pending = next_request(p, &offset, &len); /* a request not yet submitted */
  while (pending || idle_count < depth) {
    bool added = false;
    while (pending && idle_count > 0) {
      struct blk_request *q = idle[idle_count - 1];
      if (p->write) pattern_fill(q->data, offset, len, p->seed);
      if (!virtio_blk_submit(blk, q, p->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, offset / SECTOR_SIZE, q->data,
                             len))
        break; /* the ring is full: wait for completions */
      idle_count--;
      added = true;
      pending = next_request(p, &offset, &len);
    }
    if (added) virtq_kick(&blk->vq);
    u32 used;
    struct blk_request *q = virtq_wait_used(&blk->vq, &used, REQUEST_TIMEOUT_NS);
    if (!q) {
      note_offset(r, "request timed out near byte ", offset);
      return false;
    }
    do {
      finish(cfg, r, q, used, p->write);
      r->bytes += q->len;
      idle[idle_count++] = q;
    } while ((q = virtio_blk_complete(blk, &used)) != NULL);
  }
  return true;
}

static u32 request_size(const struct config *cfg, const struct virtio_blk *blk) {
  u32 req = virtio_blk_max_request(blk, (u32)cfg->blk_req);
  return req < SECTOR_SIZE ? SECTOR_SIZE : req;
}

static u64 region(const struct config *cfg, const struct virtio_blk *blk, u64 start) {
  u64 disk = blk->capacity * SECTOR_SIZE;
  u64 bytes = cfg->blk_bytes & ~(u64)(SECTOR_SIZE - 1);
  if (start >= disk) return 0;
  return bytes < disk - start ? bytes : disk - start;
}

void work_blk_read(const struct config *cfg, struct virtio_blk *blk, struct work_result *r) {
  struct plan p = {.req = request_size(cfg, blk), .end = region(cfg, blk, 0)};
  u64 t0 = clock_ns();
  run_plan(cfg, blk, r, &p);
  r->ns = clock_ns() - t0;
}

static bool flush(struct virtio_blk *blk, struct work_result *r) {
  if (!(blk->dev->features & (1ULL << VIRTIO_BLK_F_FLUSH))) return true;
  struct blk_request *q = mem_alloc(sizeof *q, 64);
  if (!q || !virtio_blk_submit(blk, q, VIRTIO_BLK_T_FLUSH, 0, NULL, 0)) return false;
  virtq_kick(&blk->vq);
  u32 used;
  if (virtq_wait_used(&blk->vq, &used, REQUEST_TIMEOUT_NS) != q || q->status != VIRTIO_BLK_S_OK) {
    result_fail(r, "flush failed");
    return false;
  }
  return true;
}

void work_blk_write(const struct config *cfg, struct virtio_blk *blk, struct work_result *r) {
  if (blk->read_only) {
    result_fail(r, "the disk is read-only (VIRTIO_BLK_F_RO)");
    return;
  }
  u64 start = cfg->blk_woff & ~(u64)(SECTOR_SIZE - 1);
  u64 end = start + region(cfg, blk, start);
  struct plan p = {.write = true, .seed = (u32)cfg->blk_wseed, .req = request_size(cfg, blk), .next = start, .end = end};
  u64 t0 = clock_ns();
  bool ok = run_plan(cfg, blk, r, &p) && flush(blk, r);
  r->ns = clock_ns() - t0;
  if (!ok) return;
  /* Read it back (not timed): the device must have stored what it acknowledged. */
  written_start = start;
  written_end = end;
  written_seed = (u32)cfg->blk_wseed;
  struct work_result back = {.ok = true};
  struct plan readback = {.req = p.req, .next = start, .end = end};
  run_plan(cfg, blk, &back, &readback);
  if (!back.ok) {
    r->errors += back.errors ? back.errors : 1;
    result_fail(r, back.note);
  }
}

/* xorshift64*: a fast PRNG for the random offsets. */
static u64 next_random(u64 *state) {
  u64 x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545f4914f6cdd1dULL;
}

void work_blk_rand(const struct config *cfg, struct virtio_blk *blk, struct work_result *r) {
  struct plan p = {.req = RAND_BLOCK,
                   .count = cfg->rand_count,
                   .blocks = blk->capacity * SECTOR_SIZE / RAND_BLOCK,
                   .random = 0x9e3779b97f4a7c15ULL ^ cfg->blk_seed};
  if (p.blocks == 0) {
    result_fail(r, "disk smaller than 4 KiB");
    return;
  }
  u64 t0 = clock_ns();
  run_plan(cfg, blk, r, &p);
  r->ns = clock_ns() - t0;
}
