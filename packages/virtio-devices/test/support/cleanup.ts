/** Per-test resources: what a test opens is closed after it, last opened first. */
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import { afterEach } from 'vitest';

/** Registers an `afterEach` in the calling file; returns `defer(cleanup)`. */
export function cleanupAfterEach(): (cleanup: () => void | Promise<void>) => void {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return (cleanup) => {
    cleanups.push(cleanup);
  };
}

/** A non-blocking eventfd, closed after the test through `defer`. */
export function testEventFd(defer: (cleanup: () => void) => void): EventFd {
  const fd = new EventFd(0, EFD_NONBLOCK);
  defer(() => fd.close());
  return fd;
}
