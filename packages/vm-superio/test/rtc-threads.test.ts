import { describe, expect, it } from 'vitest';
import { RTC_YEAR, Rtc } from '../src/index.js';
import { firstMessage, tsWorker } from './support/worker.js';

describe('Rtc shared between threads', () => {
  it('shows the main thread the time a vCPU worker set', async () => {
    const rtc = new Rtc();
    const worker = tsWorker(new URL('./fixtures/rtc-vcpu.ts', import.meta.url), { shared: rtc.shared });
    await firstMessage(worker);
    await worker.terminate();
    expect(rtc.read(RTC_YEAR)).toBe(0x30);
    // Only the year moved: the RTC runs on from the host's time in 2030.
    const expected = new Date();
    expected.setUTCFullYear(2030);
    expect(Math.abs(rtc.time() - expected.getTime())).toBeLessThan(5000);
  }, 60_000);
});
