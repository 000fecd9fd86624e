import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cmdline, type LinuxLoaderErrorCode } from '../src/index.js';
import { codeOf } from './support/errors.js';
import { type KernelArg, parseKernelCmdline } from './support/kernel-args.js';

// Printable ASCII without space, '=' and '"': what a key may hold.
const keyChar = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x3d && c !== 0x22);
const key = fc.array(keyChar, { minLength: 1, maxLength: 12 }).map((cs) => String.fromCharCode(...cs));
const plainChar = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x22);
const plain = fc.array(plainChar, { maxLength: 12 }).map((cs) => String.fromCharCode(...cs));
const quotedInner = fc
  .array(
    fc.integer({ min: 0x20, max: 0x7e }).filter((c) => c !== 0x22),
    { maxLength: 12 },
  )
  .map((cs) => String.fromCharCode(...cs));

/** A value and what the kernel reads from it. */
const value = fc.oneof(
  plain.map((v) => ({ text: v, parsed: v })),
  quotedInner.map((v) => ({ text: `"${v}"`, parsed: v })),
);

type Op =
  | { kind: 'insert'; key: string; value: { text: string; parsed: string } }
  | { kind: 'raw'; args: Array<{ text: string; parsed: KernelArg }> }
  | { kind: 'init'; args: Array<{ text: string; parsed: KernelArg }> };

const pairArg = fc
  .tuple(key, value)
  .map(([k, v]) => ({ text: `${k}=${v.text}`, parsed: { param: k, val: v.parsed } as KernelArg }));
const bareArg = key
  .filter((k) => k !== '--')
  .map((k) => ({ text: k, parsed: { param: k, val: null } as KernelArg }));
const rawArgs = fc.array(fc.oneof(pairArg, bareArg), { minLength: 1, maxLength: 4 });
const initArgs = fc.array(
  fc.oneof(
    pairArg,
    key.map((k) => ({ text: k, parsed: { param: k, val: null } })),
  ),
  {
    minLength: 1,
    maxLength: 3,
  },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), key, value }),
  fc.record({ kind: fc.constant('raw' as const), args: rawArgs }),
  fc.record({ kind: fc.constant('init' as const), args: initArgs }),
);

describe('Cmdline', () => {
  it('renders kernel arguments, then init arguments after " -- "', () => {
    const line = new Cmdline(256)
      .insertInitArgs('--init-flag x=1')
      .insertStr('console=ttyS0 quiet')
      .insert('panic', -1)
      .insert('root', '/dev/vda')
      .insert('mem', 512n);
    expect(line.toString()).toBe('console=ttyS0 quiet panic=-1 root=/dev/vda mem=512 -- --init-flag x=1');
    expect(line.length).toBe(line.toString().length);
    const bytes = line.toBytes();
    expect(bytes.length).toBe(line.length + 1);
    expect(bytes[bytes.length - 1]).toBe(0);
    expect(new TextDecoder().decode(bytes.subarray(0, -1))).toBe(line.toString());
  });

  it('renders only init arguments as "-- args"', () => {
    expect(new Cmdline(32).insertInitArgs('single').toString()).toBe('-- single');
  });

  it('drops surrounding spaces of raw strings and ignores empty ones', () => {
    expect(new Cmdline(32).insertStr('  a=1  b  ').insertStr('').insertStr('   ').toString()).toBe('a=1  b');
  });

  it('counts the terminating NUL in the capacity', () => {
    const line = new Cmdline(6).insert('ab', 'cd'); // "ab=cd" + NUL = 6
    expect(line.toString()).toBe('ab=cd');
    expect(codeOf(() => new Cmdline(5).insert('ab', 'cd'))).toBe('CMDLINE_TOO_LONG');
    expect(codeOf(() => new Cmdline(1).insertStr('a'))).toBe('CMDLINE_TOO_LONG');
    expect(new Cmdline(1).toBytes()).toEqual(new Uint8Array([0]));
  });

  it('rejects a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new Cmdline(bad)).toThrow(RangeError);
  });

  it.each<[string, () => unknown, LinuxLoaderErrorCode]>([
    ['non-ASCII in a key', () => new Cmdline(64).insert('ké', 'v'), 'CMDLINE_INVALID_CHARACTER'],
    ['a tab in a value', () => new Cmdline(64).insert('k', 'a\tb'), 'CMDLINE_INVALID_CHARACTER'],
    ['a newline in a raw string', () => new Cmdline(64).insertStr('a\nb'), 'CMDLINE_INVALID_CHARACTER'],
    ['DEL in init arguments', () => new Cmdline(64).insertInitArgs('a\x7f'), 'CMDLINE_INVALID_CHARACTER'],
    ['an empty key', () => new Cmdline(64).insert('', 'v'), 'CMDLINE_EMPTY_KEY'],
    ['a space in a key', () => new Cmdline(64).insert('a b', 'v'), 'CMDLINE_SPACE_IN_KEY'],
    ['"=" in a key', () => new Cmdline(64).insert('a=b', 'v'), 'CMDLINE_EQUALS_IN_KEY'],
    ['a quote in a key', () => new Cmdline(64).insert('"a"', 'v'), 'CMDLINE_QUOTE_IN_KEY'],
    ['a bare space in a value', () => new Cmdline(64).insert('k', 'a b'), 'CMDLINE_SPACE_IN_VALUE'],
    ['an odd quote in a value', () => new Cmdline(64).insert('k', '"a b'), 'CMDLINE_UNBALANCED_QUOTES'],
    ['an odd quote in a raw string', () => new Cmdline(64).insertStr('a="b c'), 'CMDLINE_UNBALANCED_QUOTES'],
    [
      'an odd quote in init arguments',
      () => new Cmdline(64).insertInitArgs('"x'),
      'CMDLINE_UNBALANCED_QUOTES',
    ],
    ['"--" in a raw string', () => new Cmdline(64).insertStr('a -- b'), 'CMDLINE_INIT_SEPARATOR'],
    ['a quoted "--" in a raw string', () => new Cmdline(64).insertStr('"--"'), 'CMDLINE_INIT_SEPARATOR'],
    ['a line past its capacity', () => new Cmdline(8).insert('key', 'value'), 'CMDLINE_TOO_LONG'],
    ['init arguments past the capacity', () => new Cmdline(8).insertInitArgs('abcde'), 'CMDLINE_TOO_LONG'],
  ])('refuses %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('accepts spaces inside quotes and quotes inside values', () => {
    const line = new Cmdline(64).insert('k', '"a b"').insert('q', 'x"y z"').toString();
    expect(line).toBe('k="a b" q=x"y z"');
    expect(parseKernelCmdline(line).kernel).toEqual([
      { param: 'k', val: 'a b' },
      { param: 'q', val: 'x"y z"' },
    ]);
  });

  it('rejects values that are not strings, finite numbers or bigints', () => {
    expect(() => new Cmdline(64).insert('k', Number.NaN)).toThrow(TypeError);
    expect(() => new Cmdline(64).insert('k', {} as unknown as string)).toThrow(TypeError);
    expect(() => new Cmdline(64).insert(1 as unknown as string, 'v')).toThrow(TypeError);
    expect(() => new Cmdline(64).insertStr(undefined as unknown as string)).toThrow(TypeError);
  });

  describe('from', () => {
    it('splits at the first bare "--"', () => {
      const line = Cmdline.from('console=ttyS0 -- init -- more', 64);
      expect(line.toString()).toBe('console=ttyS0 -- init -- more');
      line.insert('quiet', 1);
      expect(line.toString()).toBe('console=ttyS0 quiet=1 -- init -- more');
    });

    it('takes a line that starts with "--" as init arguments only', () => {
      expect(Cmdline.from('-- x', 16).insertStr('k').toString()).toBe('k -- x');
    });

    it('keeps a line without "--" as kernel arguments', () => {
      expect(Cmdline.from('a=1 "b=c d"', 32).insertInitArgs('z').toString()).toBe('a=1 "b=c d" -- z');
    });

    it('validates like insertStr', () => {
      expect(codeOf(() => Cmdline.from('a="', 16))).toBe('CMDLINE_UNBALANCED_QUOTES');
      expect(codeOf(() => Cmdline.from('abcdefgh', 8))).toBe('CMDLINE_TOO_LONG');
      expect(codeOf(() => Cmdline.from('a -- é', 16))).toBe('CMDLINE_INVALID_CHARACTER');
    });
  });

  describe('virtio-mmio devices', () => {
    it('writes the form virtio_mmio parses, with memparse suffixes', () => {
      const line = new Cmdline(512)
        .addVirtioMmioDevice(0x1000n, 0xd0000000n, 5)
        .addVirtioMmioDevice(512, 0xd0001000n, 6, 3)
        .addVirtioMmioDevice(0x200000, 0x1_0000_0000n, 7)
        .addVirtioMmioDevice(1n << 30n, 0xc0000000n, 8)
        .addVirtioMmioDevice(1000, 0x2000n, 9);
      expect(parseKernelCmdline(line.toString()).kernel).toEqual([
        { param: 'virtio_mmio.device', val: '4K@0xd0000000:5' },
        { param: 'virtio_mmio.device', val: '512@0xd0001000:6:3' },
        { param: 'virtio_mmio.device', val: '2M@0x100000000:7' },
        { param: 'virtio_mmio.device', val: '1G@0xc0000000:8' },
        { param: 'virtio_mmio.device', val: '1000@0x2000:9' },
      ]);
    });

    it('rejects empty windows, windows past 2^64, bad irqs and ids', () => {
      const line = new Cmdline(512);
      expect(() => line.addVirtioMmioDevice(0, 0x1000n, 5)).toThrow(RangeError);
      expect(() => line.addVirtioMmioDevice(0x1000, 0xffff_ffff_ffff_f001n, 5)).toThrow(RangeError);
      expect(() => line.addVirtioMmioDevice(0x1000, -1n, 5)).toThrow(RangeError);
      expect(() => line.addVirtioMmioDevice(0x1000, 0x1000n, 0)).toThrow(RangeError);
      expect(() => line.addVirtioMmioDevice(0x1000, 0x1000n, 2 ** 32)).toThrow(RangeError);
      expect(() => line.addVirtioMmioDevice(0x1000, 0x1000n, 5, -1)).toThrow(RangeError);
      expect(() => line.addVirtioMmioDevice(1.5, 0x1000n, 5)).toThrow(TypeError);
      expect(() => line.addVirtioMmioDevice(0x1000, '0x1000' as unknown as bigint, 5)).toThrow(TypeError);
      expect(line.toString()).toBe('');
    });

    it('fails with CMDLINE_TOO_LONG when the entry does not fit', () => {
      expect(codeOf(() => new Cmdline(20).addVirtioMmioDevice(0x1000n, 0xd0000000n, 5))).toBe(
        'CMDLINE_TOO_LONG',
      );
    });
  });

  describe('properties', () => {
    it('the kernel parses back exactly what was inserted', () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
          const line = new Cmdline(4096);
          const kernel: KernelArg[] = [];
          const init: KernelArg[] = [];
          for (const o of ops) {
            if (o.kind === 'insert') {
              line.insert(o.key, o.value.text);
              kernel.push({ param: o.key, val: o.value.parsed });
            } else if (o.kind === 'raw') {
              line.insertStr(o.args.map((a) => a.text).join(' '));
              kernel.push(...o.args.map((a) => a.parsed));
            } else {
              line.insertInitArgs(o.args.map((a) => a.text).join(' '));
              init.push(...o.args.map((a) => a.parsed));
            }
          }
          const parsed = parseKernelCmdline(line.toString());
          expect(parsed.kernel).toEqual(kernel);
          expect(parsed.init).toEqual(init.length === 0 ? null : init);
          expect(Cmdline.from(line.toString(), 4096).toString()).toBe(line.toString());
        }),
      );
    });

    it('never exceeds its capacity and is unchanged by a failed insert', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 80 }), fc.array(op, { maxLength: 10 }), (capacity, ops) => {
          const line = new Cmdline(capacity);
          for (const o of ops) {
            const before = line.toString();
            const text = o.kind === 'insert' ? '' : o.args.map((a) => a.text).join(' ');
            const code = codeOf(() =>
              o.kind === 'insert'
                ? line.insert(o.key, o.value.text)
                : o.kind === 'raw'
                  ? line.insertStr(text)
                  : line.insertInitArgs(text),
            );
            expect(line.length + 1).toBeLessThanOrEqual(capacity);
            if (code !== undefined) {
              expect(code).toBe('CMDLINE_TOO_LONG');
              expect(line.toString()).toBe(before);
            }
          }
        }),
      );
    });

    it('arbitrary keys and values are either rejected with a reason or parsed back intact', () => {
      const anyText = fc.string({
        unit: fc.oneof(
          fc.constantFrom(' ', '=', '"', '\t', 'é', '-'),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        ),
      });
      fc.assert(
        fc.property(anyText, anyText, (k, v) => {
          const line = new Cmdline(1024).insert('a', 1);
          const code = codeOf(() => line.insert(k, v));
          if (code !== undefined) {
            expect(line.toString()).toBe('a=1');
            const printable = (s: string) => /^[\x20-\x7e]*$/.test(s);
            const expected =
              k === ''
                ? 'CMDLINE_EMPTY_KEY'
                : !printable(k)
                  ? 'CMDLINE_INVALID_CHARACTER'
                  : k.includes(' ')
                    ? 'CMDLINE_SPACE_IN_KEY'
                    : k.includes('=')
                      ? 'CMDLINE_EQUALS_IN_KEY'
                      : k.includes('"')
                        ? 'CMDLINE_QUOTE_IN_KEY'
                        : !printable(v)
                          ? 'CMDLINE_INVALID_CHARACTER'
                          : (v.match(/"/g) ?? []).length % 2 === 1
                            ? 'CMDLINE_UNBALANCED_QUOTES'
                            : 'CMDLINE_SPACE_IN_VALUE';
            expect(code).toBe(expected);
            return;
          }
          const parsed = parseKernelCmdline(line.toString()).kernel;
          expect(parsed.length).toBe(2);
          expect(parsed[1]!.param).toBe(k);
          const stripped = v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v;
          expect(parsed[1]!.val).toBe(v.startsWith('"') && v.length === 1 ? '' : stripped);
        }),
      );
    });
  });
});
