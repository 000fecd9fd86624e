/**
 * A small vocabulary for C struct layouts: scalar types, fixed arrays, byte
 * arrays, nested structs and counted arrays. A layout knows its size and every
 * member's offset (so a test can hold it against `<linux/kvm.h>`), and reads
 * and writes plain objects through little-endian `DataView` accessors.
 *
 * Every write validates its value (type and range) and throws `TypeError` or
 * `RangeError`, so a bad argument never reaches an ioctl. Members marked
 * {@link pad} are not part of the value: they are written as zeros.
 */

/** A C type: its fixed size in bytes and how to read and write a value at an offset. */
export interface Type<T> {
  /** Size in bytes. */
  readonly size: number;
  /** A short description for error messages, e.g. `u32` or `kvm_segment`. */
  readonly label: string;
  read(view: DataView, offset: number): T;
  /** Writes `value`, or throws TypeError/RangeError naming `where` if it is not a valid value. */
  write(view: DataView, offset: number, value: T, where: string): void;
  /** The value of all-zero bytes. */
  zero(): T;
}

type Reader<T> = (view: DataView, offset: number) => T;
type Writer = (view: DataView, offset: number, value: number) => void;

function integer(label: string, size: 1 | 2 | 4, signed: boolean): Type<number> {
  const bits = size * 8;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const readers: Record<1 | 2 | 4, [Reader<number>, Reader<number>]> = {
    1: [(v, o) => v.getUint8(o), (v, o) => v.getInt8(o)],
    2: [(v, o) => v.getUint16(o, true), (v, o) => v.getInt16(o, true)],
    4: [(v, o) => v.getUint32(o, true), (v, o) => v.getInt32(o, true)],
  };
  const writers: Record<1 | 2 | 4, Writer> = {
    1: (v, o, x) => v.setUint8(o, x & 0xff),
    2: (v, o, x) => v.setUint16(o, x & 0xffff, true),
    4: (v, o, x) => v.setUint32(o, x >>> 0, true),
  };
  const store = writers[size];
  return {
    size,
    label,
    read: readers[size][signed ? 1 : 0],
    write(view, offset, value, where) {
      if (typeof value !== 'number' || !Number.isInteger(value))
        throw new TypeError(`${where} must be an integer (${label}), got ${describe(value)}`);
      if (value < min || value > max)
        throw new RangeError(`${where} must be a ${label} (${min}..${max}), got ${value}`);
      store(view, offset, value);
    },
    zero: () => 0,
  };
}

function bigInteger(label: string, signed: boolean): Type<bigint> {
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  return {
    size: 8,
    label,
    read: signed ? (v, o) => v.getBigInt64(o, true) : (v, o) => v.getBigUint64(o, true),
    write(view, offset, value, where) {
      if (typeof value !== 'bigint')
        throw new TypeError(`${where} must be a bigint (${label}), got ${describe(value)}`);
      if (value < min || value > max) throw new RangeError(`${where} must be a ${label}, got ${value}`);
      view.setBigUint64(offset, BigInt.asUintN(64, value), true);
    },
    zero: () => 0n,
  };
}

/** `__u8` */
export const u8: Type<number> = integer('u8', 1, false);
/** `__u16` */
export const u16: Type<number> = integer('u16', 2, false);
/** `__u32` */
export const u32: Type<number> = integer('u32', 4, false);
/** `__s32` */
export const i32: Type<number> = integer('s32', 4, true);
/** `__u64`, as a bigint. */
export const u64: Type<bigint> = bigInteger('u64', false);
/** `__s64`, as a bigint. */
export const i64: Type<bigint> = bigInteger('s64', true);

/** `T name[length]` as an array of exactly `length` values. */
export function array<T>(type: Type<T>, length: number): Type<T[]> {
  return {
    size: type.size * length,
    label: `${type.label}[${length}]`,
    read(view, offset) {
      const out = new Array<T>(length);
      for (let i = 0; i < length; i++) out[i] = type.read(view, offset + i * type.size);
      return out;
    },
    write(view, offset, value, where) {
      if (!Array.isArray(value)) throw new TypeError(`${where} must be an array of ${length} ${type.label}`);
      if (value.length !== length)
        throw new RangeError(`${where} must have ${length} elements, got ${value.length}`);
      for (let i = 0; i < length; i++)
        type.write(view, offset + i * type.size, value[i] as T, `${where}[${i}]`);
    },
    zero: () => Array.from({ length }, () => type.zero()),
  };
}

/** `__u8 name[length]` (or `char`) as a `Uint8Array` copy of exactly `length` bytes. */
export function bytes(length: number): Type<Uint8Array> {
  return {
    size: length,
    label: `u8[${length}]`,
    read: (view, offset) => new Uint8Array(view.buffer, view.byteOffset + offset, length).slice(),
    write(view, offset, value, where) {
      if (!(value instanceof Uint8Array))
        throw new TypeError(`${where} must be a Uint8Array of ${length} bytes`);
      if (value.length !== length)
        throw new RangeError(`${where} must be ${length} bytes, got ${value.length}`);
      new Uint8Array(view.buffer, view.byteOffset + offset, length).set(value);
    },
    zero: () => new Uint8Array(length),
  };
}

/** A padding or reserved member: part of the layout, not of the value, always written as zeros. */
export interface Pad {
  readonly pad: number;
}
/** A padding or reserved member of `size` bytes. */
export const pad = (size: number): Pad => ({ pad: size });

/**
 * A counted array member whose element count is held by the member
 * `countField`: a flexible array `T name[]` (capacity 0), or a fixed array
 * `T name[capacity]` of which only the first `count` elements are meaningful.
 */
export interface Counted<T, C extends string = string> {
  readonly counted: Type<T>;
  readonly countField: C;
  readonly capacity: number;
}
/**
 * `T name[]` (or `T name[capacity]`), counted by `countField`, a u32 member of
 * the same struct. The count is not part of the value: it is the array's length.
 */
export const counted = <T, C extends string>(
  element: Type<T>,
  countField: C,
  capacity = 0,
): Counted<T, C> => ({
  counted: element,
  countField,
  capacity,
});

/** One member: its offset and its type, a pad, or a counted array. */
export type FieldSpec = readonly [offset: number, type: Type<unknown> | Pad | Counted<unknown, string>];

type ValueOfSpec<S> = S extends readonly [number, Type<infer V>]
  ? V
  : S extends readonly [number, Counted<infer E, string>]
    ? E[]
    : never;
type CountKeys<F> = {
  [K in keyof F]: F[K] extends readonly [number, Counted<unknown, infer C>] ? C : never;
}[keyof F];
type ValueKeys<F> = Exclude<
  { [K in keyof F]: F[K] extends readonly [number, Pad] ? never : K }[keyof F],
  CountKeys<F>
>;

/** The plain-object value of a struct with members `F` (pads and counts left out). */
export type StructValue<F extends Record<string, FieldSpec>> = {
  -readonly [K in ValueKeys<F>]: ValueOfSpec<F[K]>;
};

/** A described member, as {@link StructType.fields} lists it. */
export interface FieldInfo {
  readonly name: string;
  readonly offset: number;
  /** Size in bytes (0 for a flexible array). */
  readonly size: number;
  /** The member's type; the element type for a counted array; undefined for a pad. */
  readonly type: Type<unknown> | undefined;
}

/** A struct layout: a {@link Type} of a plain object, with its C name and members. */
export interface StructType<T> extends Type<T> {
  /** The C name (`kvm_regs`), or undefined for an anonymous member struct. */
  readonly name: string | undefined;
  /** Every member, pads and counted arrays included, in declaration order. */
  readonly fields: readonly FieldInfo[];
  /** Byte offset of a member; members of member structs as `a.b`. */
  offsetOf(path: string): number;
  /** Bytes needed for `value`: the fixed size plus a flexible array's elements. */
  byteLength(value: T): number;
  /** A new buffer holding `value`. */
  encode(value: T): Uint8Array<ArrayBuffer>;
  /** Reads a value from bytes laid out as this struct (a flexible array is bounded by the bytes given). */
  decode(bytes: ArrayBufferView | ArrayBuffer): T;
}

interface ValueMember {
  readonly key: string;
  readonly offset: number;
  readonly type: Type<unknown>;
}
interface CountedMember extends ValueMember {
  readonly countField: string;
  readonly capacity: number;
}

/**
 * Declares a struct of `size` bytes with members at fixed offsets. `name` is
 * its C name, or undefined for a member struct without one. Members may
 * overlap (a C union); such a layout is for offsets and reads, not writes.
 */
export function struct<F extends Record<string, FieldSpec>>(
  name: string | undefined,
  size: number,
  members: F,
): StructType<StructValue<F>> {
  type T = StructValue<F>;
  const label = name ?? 'struct';
  const fields: FieldInfo[] = [];
  const values: ValueMember[] = [];
  let list: CountedMember | undefined;
  for (const [key, [offset, t]] of Object.entries(members)) {
    let fieldSize: number;
    if ('pad' in t) {
      fieldSize = t.pad;
      fields.push({ name: key, offset, size: fieldSize, type: undefined });
    } else if ('counted' in t) {
      fieldSize = t.capacity * t.counted.size;
      fields.push({ name: key, offset, size: fieldSize, type: t.counted });
      list = { key, offset, type: t.counted, countField: t.countField, capacity: t.capacity };
    } else {
      fieldSize = t.size;
      fields.push({ name: key, offset, size: fieldSize, type: t });
      values.push({ key, offset, type: t });
    }
    if (offset + fieldSize > size) throw new Error(`${label}.${key} ends past the struct's ${size} bytes`);
  }
  const countKey = list?.countField;

  const type: StructType<T> = {
    name,
    size,
    label,
    fields,
    read(view, offset) {
      const out: Record<string, unknown> = {};
      let count = 0;
      for (const f of values) {
        const v = f.type.read(view, offset + f.offset);
        if (f.key === countKey) count = v as number;
        else out[f.key] = v;
      }
      if (list) {
        const room =
          list.capacity > 0
            ? list.capacity
            : Math.floor((view.byteLength - offset - list.offset) / list.type.size);
        const n = Math.max(0, Math.min(count, room));
        const items = new Array<unknown>(n);
        for (let i = 0; i < n; i++)
          items[i] = list.type.read(view, offset + list.offset + i * list.type.size);
        out[list.key] = items;
      }
      return out as T;
    },
    write(view, offset, value, where) {
      if (typeof value !== 'object' || value === null)
        throw new TypeError(`${where} must be a ${label} object`);
      const obj = value as Record<string, unknown>;
      new Uint8Array(view.buffer, view.byteOffset + offset, size).fill(0);
      let count = 0;
      if (list) {
        const items = obj[list.key];
        if (!Array.isArray(items)) throw new TypeError(`${where}.${list.key} must be an array`);
        count = items.length;
        if (list.capacity > 0 && count > list.capacity)
          throw new RangeError(`${where}.${list.key} holds at most ${list.capacity} elements, got ${count}`);
        if (offset + list.offset + count * list.type.size > view.byteLength)
          throw new RangeError(`${where}.${list.key} does not fit in the buffer`);
        for (let i = 0; i < count; i++)
          list.type.write(
            view,
            offset + list.offset + i * list.type.size,
            items[i],
            `${where}.${list.key}[${i}]`,
          );
      }
      for (const f of values) {
        const v = f.key === countKey ? count : obj[f.key];
        f.type.write(view, offset + f.offset, v, `${where}.${f.key}`);
      }
    },
    zero() {
      const out: Record<string, unknown> = {};
      for (const f of values) if (f.key !== countKey) out[f.key] = f.type.zero();
      if (list) out[list.key] = [];
      return out as T;
    },
    offsetOf(path) {
      const dot = path.indexOf('.');
      const head = dot < 0 ? path : path.slice(0, dot);
      const f = fields.find((x) => x.name === head);
      if (!f) throw new RangeError(`${label} has no member ${head}`);
      if (dot < 0) return f.offset;
      const inner = f.type as Partial<StructType<unknown>> | undefined;
      if (typeof inner?.offsetOf !== 'function') throw new RangeError(`${label}.${head} is not a struct`);
      return f.offset + inner.offsetOf(path.slice(dot + 1));
    },
    byteLength(value) {
      if (!list || list.capacity > 0) return size;
      const items = (value as Record<string, unknown>)[list.key];
      return size + (Array.isArray(items) ? items.length : 0) * list.type.size;
    },
    encode(value) {
      const out = new Uint8Array(type.byteLength(value));
      type.write(new DataView(out.buffer), 0, value, label);
      return out;
    },
    decode(input) {
      const view =
        input instanceof ArrayBuffer
          ? new DataView(input)
          : new DataView(input.buffer, input.byteOffset, input.byteLength);
      if (view.byteLength < size)
        throw new RangeError(`${label} needs ${size} bytes, got ${view.byteLength}`);
      return type.read(view, 0);
    },
  };
  return type;
}

/** The value type of a layout: `LayoutValue<typeof kvm_regs>`. */
export type LayoutValue<L> = L extends Type<infer T> ? T : never;

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
