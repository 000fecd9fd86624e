import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMAND_LINE_SIZE,
  GUEST_KERNEL_CMDLINE,
  GUEST_RUN_BEGIN_MARKER,
  GUEST_RUN_END_MARKER,
  guestRunParam,
  parseGuestRun,
} from '../src/guest-protocol.js';

describe('GUEST_KERNEL_CMDLINE', () => {
  it('holds the options HOST.md lists for software-KVM hosts, and reboot=k', () => {
    const words = GUEST_KERNEL_CMDLINE.split(' ');
    for (const word of [
      'console=ttyS0',
      'nopv',
      'noxsave',
      'clearcpuid=popcnt,smap,smep,erms,fsrm',
      'nosmap',
      'nosmep',
      'mitigations=off',
      'nopti',
      '8250.nr_uarts=1',
      'tsc=reliable',
      'no_timer_check',
      'percpu_alloc=page',
      'rodata=off',
      'panic=-1',
      'reboot=k',
    ]) {
      expect(words).toContain(word);
    }
  });
});

describe('guestRunParam', () => {
  it('encodes the script as base64 of its UTF-8 bytes', () => {
    const param = guestRunParam('echo "héllo" | wc -c');
    expect(param.startsWith('tsvmm.run=')).toBe(true);
    expect(Buffer.from(param.slice('tsvmm.run='.length), 'base64').toString('utf8')).toBe(
      'echo "héllo" | wc -c',
    );
    // Nothing the kernel's parameter parser splits on or unquotes.
    expect(param).toMatch(/^tsvmm\.run=[A-Za-z0-9+/=]+$/);
  });

  it('round-trips any script and never yields spaces or quotes', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 400, unit: 'grapheme' }), (script) => {
        const param = guestRunParam(script);
        expect(param).not.toMatch(/[\s"]/);
        expect(Buffer.from(param.slice(10), 'base64').toString('utf8')).toBe(script);
      }),
    );
  });

  it('throws RangeError when the command line would exceed COMMAND_LINE_SIZE', () => {
    const room = COMMAND_LINE_SIZE - GUEST_KERNEL_CMDLINE.length - 2 - 'tsvmm.run='.length;
    const fits = 'x'.repeat(Math.floor(room / 4) * 3);
    expect(GUEST_KERNEL_CMDLINE.length + 2 + guestRunParam(fits).length).toBeLessThanOrEqual(
      COMMAND_LINE_SIZE,
    );
    expect(() => guestRunParam(`${fits}xxx`)).toThrow(RangeError);
  });

  it('rejects an empty or non-string script', () => {
    expect(() => guestRunParam('')).toThrow(RangeError);
    expect(() => guestRunParam(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('parseGuestRun', () => {
  const frame = (body: string, status: number) =>
    `${GUEST_RUN_BEGIN_MARKER}\r\n${body}${GUEST_RUN_END_MARKER} status=${status}\r\n`;

  it('returns the output between the markers and the exit status, without carriage returns', () => {
    const text = `[    1.0] booting\r\nTSVMM-GUEST-BOOTED\r\n${frame('line one\r\nline two\r\n', 3)}[    2.0] reboot\r\n`;
    expect(parseGuestRun(text)).toEqual({ status: 3, output: 'line one\nline two' });
  });

  it('returns an empty output for a silent command', () => {
    expect(parseGuestRun(frame('', 0))).toEqual({ status: 0, output: '' });
  });

  it('waits for the end line to be complete', () => {
    const text = frame('out\r\n', 12);
    expect(parseGuestRun(text.slice(0, text.indexOf('status=1') + 'status=1'.length))).toBeUndefined();
    expect(parseGuestRun(text)).toEqual({ status: 12, output: 'out' });
    expect(parseGuestRun(`${GUEST_RUN_BEGIN_MARKER}\nno end yet\n`)).toBeUndefined();
    expect(parseGuestRun('nothing at all')).toBeUndefined();
  });

  it('ignores end lines that are not well formed', () => {
    const text = `${GUEST_RUN_BEGIN_MARKER}\n${GUEST_RUN_END_MARKER} status=999\n${GUEST_RUN_END_MARKER} status=x\nok\n${GUEST_RUN_END_MARKER} status=1\n`;
    expect(parseGuestRun(text)).toEqual({
      status: 1,
      output: `${GUEST_RUN_END_MARKER} status=999\n${GUEST_RUN_END_MARKER} status=x\nok`,
    });
  });

  it('never throws on arbitrary console text, and finds any framed output', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (noise) => {
        const result = parseGuestRun(noise);
        if (result !== undefined) expect(result.status).toBeLessThanOrEqual(255);
      }),
    );
    const line = fc.string({ maxLength: 40 }).filter((s) => !/[\r\n]/.test(s) && !s.startsWith('TSVMM-'));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.integer({ min: 0, max: 255 }), (lines, status) => {
        const body = lines.map((l) => `${l}\r\n`).join('');
        expect(parseGuestRun(`noise\n${frame(body, status)}`)).toEqual({ status, output: lines.join('\n') });
      }),
    );
  });

  it('rejects a non-string argument', () => {
    expect(() => parseGuestRun(undefined as unknown as string)).toThrow(TypeError);
  });
});
