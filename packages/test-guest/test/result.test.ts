import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTestGuestResult, RESULT_PREFIX } from '../src/index.js';

const OK_LINE =
  'TSVMM-TEST-GUEST {"v":1,"status":"ok","clock":"kvmclock","devices":[{"type":"blk","base":"0xd0000000","irq":5,"version":2}],' +
  '"results":[{"work":"blk-read","ok":true,"ops":32,"bytes":8388608,"ns":10285821,"errors":0,"note":""}],' +
  '"checks":[["blk0.reset-reads-zero",true,""],["blk0.read-used-len",false,"got 0x1, want 0x1001"]],"checksDropped":0}';

describe('parseTestGuestResult', () => {
  it('reads the line out of mixed console output, CRLF or LF', () => {
    const text = `tsvmm-test-guest: entered\r\nsome VMM noise\r\n${OK_LINE}\r\nmore noise\n`;
    expect(parseTestGuestResult(text)).toEqual({
      status: 'ok',
      devices: [{ type: 'blk', base: 0xd000_0000n, irq: 5, version: 2 }],
      results: [{ work: 'blk-read', ok: true, ops: 32, bytes: 8388608, ns: 10285821, errors: 0, note: '' }],
      checks: [
        { id: 'blk0.reset-reads-zero', ok: true, message: '' },
        { id: 'blk0.read-used-len', ok: false, message: 'got 0x1, want 0x1001' },
      ],
    });
  });

  it('waits for the end of the line', () => {
    expect(parseTestGuestResult(OK_LINE)).toBeUndefined();
    expect(parseTestGuestResult(`${OK_LINE}\n`)?.status).toBe('ok');
  });

  it('reads setup errors, and the short form the guest prints when its line would not fit', () => {
    const full = `${RESULT_PREFIX}{"v":1,"status":"error","error":"bad command line word: tg.x=1","clock":"kvmclock","devices":[],"results":[],"checks":[],"checksDropped":0}\n`;
    expect(parseTestGuestResult(full)).toMatchObject({
      status: 'error',
      error: 'bad command line word: tg.x=1',
    });
    const short = `${RESULT_PREFIX}{"v":1,"status":"error","error":"results line too long"}\n`;
    expect(parseTestGuestResult(short)).toEqual({
      status: 'error',
      error: 'results line too long',
      devices: [],
      results: [],
      checks: [],
    });
  });

  it('reads a fault line, after a line cut short by the fault', () => {
    const text =
      'TSVMM-TEST-GUEST {"v":1,"status":"ok","dev\n' +
      `${RESULT_PREFIX}{"v":1,"status":"fault","vector":"0xe","error":"0x4","rip":"0x1006d4","cs":"0x23","rsp":"0x11ffe0","cr2":"0x0"}\n`;
    expect(parseTestGuestResult(text)).toEqual({
      status: 'fault',
      devices: [],
      results: [],
      checks: [],
      fault: { vector: 0xen, error: 4n, rip: 0x1006d4n, cs: 0x23n, rsp: 0x11ffe0n, cr2: 0n },
    });
  });

  it('ignores lines that are not well-formed results', () => {
    const bad = [
      `${RESULT_PREFIX}{"v":2,"status":"ok","devices":[],"results":[],"checks":[]}`,
      `${RESULT_PREFIX}{"v":1,"status":"great","devices":[],"results":[],"checks":[]}`,
      `${RESULT_PREFIX}{"v":1,"status":"ok","devices":[{"type":"blk","base":"d0000000","irq":5,"version":2}],"results":[],"checks":[]}`,
      `${RESULT_PREFIX}{"v":1,"status":"ok","devices":[],"results":[{"work":"x","ok":true,"ops":-1,"bytes":0,"ns":0,"errors":0,"note":""}],"checks":[]}`,
      `${RESULT_PREFIX}{"v":1,"status":"ok","devices":[],"results":[],"checks":[["a",1,""]]}`,
      `${RESULT_PREFIX}{"v":1,"status":"ok","devices":[],"results":[],"checks":[["a",true]]}`,
      `${RESULT_PREFIX}{"v":1,"status":"ok","devices":[],"results":[{"work":"x","ok":true,"ops":1e300,"bytes":0,"ns":0,"errors":0,"note":""}],"checks":[]}`,
      `${RESULT_PREFIX}{"v":1,"status":"fault","vector":"0xe"}`,
      `${RESULT_PREFIX}{"v":1,"status":"error"}`,
      `${RESULT_PREFIX}[1]`,
      `${RESULT_PREFIX}{"v":1,`,
    ];
    for (const line of bad) expect(parseTestGuestResult(`${line}\n`), line).toBeUndefined();
    expect(() => parseTestGuestResult(7 as unknown as string)).toThrow(TypeError);
  });

  it('never throws on arbitrary console bytes, and a good line survives any noise around it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (before, after) => {
        expect(() => parseTestGuestResult(before + after)).not.toThrow();
        const text = `${before.replace(/TSVMM-TEST-GUEST /g, '')}\n${OK_LINE}\n${after.replace(/TSVMM-TEST-GUEST /g, '')}`;
        expect(parseTestGuestResult(text)?.status).toBe('ok');
      }),
    );
    fc.assert(
      fc.property(fc.json(), (json) => {
        expect(() => parseTestGuestResult(`${RESULT_PREFIX}${json}\n`)).not.toThrow();
      }),
    );
  });
});
