/**
 * virtio-blk numbers (virtio 1.2 §5.2; Linux `<linux/virtio_blk.h>`), in
 * their C spelling. The device id, `VIRTIO_ID_BLOCK`, is with the other ids
 * in the package's shared constants.
 */

/** The unit of `capacity` and of a request's `sector`: always 512 bytes, whatever `blk_size` says. */
export const SECTOR_SIZE = 512;

// Feature bits (§5.2.3).
/** Maximum size of any single segment is in `size_max`. */
export const VIRTIO_BLK_F_SIZE_MAX = 1;
/** Maximum number of segments in a request is in `seg_max`. */
export const VIRTIO_BLK_F_SEG_MAX = 2;
/** Legacy disk geometry is in `geometry`. */
export const VIRTIO_BLK_F_GEOMETRY = 4;
/** The device is read-only. */
export const VIRTIO_BLK_F_RO = 5;
/** The block size of the disk is in `blk_size`. */
export const VIRTIO_BLK_F_BLK_SIZE = 6;
/** Cache flush command support. */
export const VIRTIO_BLK_F_FLUSH = 9;
/** Optimal I/O alignment is in `topology`. */
export const VIRTIO_BLK_F_TOPOLOGY = 10;
/** The driver can toggle the cache between writeback and writethrough. */
export const VIRTIO_BLK_F_CONFIG_WCE = 11;
/** More than one request queue. */
export const VIRTIO_BLK_F_MQ = 12;
/** DISCARD is supported. */
export const VIRTIO_BLK_F_DISCARD = 13;
/** WRITE_ZEROES is supported. */
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;
/** GET_LIFETIME is supported. */
export const VIRTIO_BLK_F_LIFETIME = 15;
/** SECURE_ERASE is supported. */
export const VIRTIO_BLK_F_SECURE_ERASE = 16;

// Request types (§5.2.6).
/** Read sectors into the request's device-writable data. */
export const VIRTIO_BLK_T_IN = 0;
/** Write the request's device-readable data to sectors. */
export const VIRTIO_BLK_T_OUT = 1;
/** Make completed writes stable. */
export const VIRTIO_BLK_T_FLUSH = 4;
/** Fetch the 20-byte device id string. */
export const VIRTIO_BLK_T_GET_ID = 8;
/** Fetch storage lifetime information. */
export const VIRTIO_BLK_T_GET_LIFETIME = 10;
/** Discard ranges of sectors. */
export const VIRTIO_BLK_T_DISCARD = 11;
/** Write zeroes to ranges of sectors. */
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;
/** Securely erase ranges of sectors. */
export const VIRTIO_BLK_T_SECURE_ERASE = 14;

// Status values: the last byte of every request (§5.2.6).
/** The request succeeded. */
export const VIRTIO_BLK_S_OK = 0;
/** Device or driver error. */
export const VIRTIO_BLK_S_IOERR = 1;
/** The request is not supported by the device. */
export const VIRTIO_BLK_S_UNSUPP = 2;

/** Length of the GET_ID reply: NUL-padded, no terminator when the id is 20 bytes long. */
export const VIRTIO_BLK_ID_BYTES = 20;
/** `flags.unmap` of a discard / write-zeroes segment. */
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

/** `struct virtio_blk_outhdr`: le32 type, le32 reserved (ioprio), le64 sector. */
export const VIRTIO_BLK_OUTHDR_SIZE = 16;
/** `struct virtio_blk_discard_write_zeroes`: le64 sector, le32 num_sectors, le32 flags. */
export const VIRTIO_BLK_DISCARD_WRITE_ZEROES_SIZE = 16;
