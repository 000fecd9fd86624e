/*
 * The workloads: each runs in user mode against a set-up driver, measures
 * itself with kvmclock and fills one results entry.
 */
#ifndef TG_WORKLOADS_H
#define TG_WORKLOADS_H
#include "config.h"
#include "results.h"
#include "virtio-blk.h"
#include "virtio-net.h"
#include "virtio-rng.h"

/*
 * The disk pattern: the 32-bit word at byte offset `o` holds
 * ((o / 4) ^ seed) * 0x9e3779b1, so every word of a disk is distinct and a
 * misplaced block never verifies. The host writes images the same way.
 */
static inline u32 pattern_word(u64 word_index, u32 seed) { return ((u32)word_index ^ seed) * 0x9e3779b1u; }
void pattern_fill(void *buf, u64 offset, u32 len, u32 seed);
/* Words of buf that differ from the pattern; *first_bad gets the byte offset of the first. */
u64 pattern_check(const void *buf, u64 offset, u32 len, u32 seed, u64 *first_bad);

/*
 * Verifies data read from [offset, offset + len) of the disk against the
 * pattern each part should hold: the image's (tg.blk.seed), or blk-write's
 * (tg.blk.wseed) where blk-write wrote. Returns the words that differ.
 */
u64 disk_check(const struct config *cfg, const void *buf, u64 offset, u32 len, u64 *first_bad);

/* Sequential reads of cfg->blk_bytes from offset 0 in cfg->blk_req requests, verified. */
void work_blk_read(const struct config *cfg, struct virtio_blk *blk, struct work_result *r);
/* Sequential writes of the write pattern at cfg->blk_woff, a flush, then a verifying read-back (untimed). */
void work_blk_write(const struct config *cfg, struct virtio_blk *blk, struct work_result *r);
/* cfg->rand_count random 4 KiB reads over the whole disk, verified. */
void work_blk_rand(const struct config *cfg, struct virtio_blk *blk, struct work_result *r);
/* cfg->net_count UDP packets to the peer; the time until the device has used them all. */
void work_net_tx(const struct config *cfg, struct virtio_net *net, struct work_result *r);
/* cfg->net_count UDP packets from the peer, asked for in windows; verified. */
void work_net_rx(const struct config *cfg, struct virtio_net *net, struct work_result *r);
/* cfg->rng_bytes from virtio-rng. */
void work_rng(const struct config *cfg, struct virtio_rng *rng, struct work_result *r);
/* cfg->exits port writes / MMIO reads nothing answers but the VMM. */
void work_pio(const struct config *cfg, struct work_result *r);
void work_mmio(const struct config *cfg, struct work_result *r);
/* Prints a line, then spins in user mode for cfg->idle_ms (the host samples the VMM meanwhile). */
void work_idle(const struct config *cfg, struct work_result *r);

#endif
