/**
 * How a C struct (or any fixed-size value) is laid out in guest memory.
 * Layouts read and write through a little-endian `DataView`, so that
 * `GuestMemory.readObj`/`writeObj` can hand them the region's own view
 * (no copy) when the object lies inside one region.
 *
 * The shape matches the struct types of `@tsvmm/kvm-ioctls` (`Type<T>`), so
 * those can be passed as they are.
 */
export interface ObjectLayout<T> {
  /** The object's size in bytes (its C `sizeof`). */
  readonly size: number;
  /** Decodes the object that starts at `offset` in `view`. */
  read(view: DataView, offset: number): T;
  /**
   * Encodes `value` at `offset` in `view`, writing exactly `size` bytes.
   * `where` names the value for error messages (e.g. `object at 0x1000`);
   * a layout may throw `TypeError`/`RangeError` for a value it cannot encode.
   */
  write(view: DataView, offset: number, value: T, where: string): void;
}
