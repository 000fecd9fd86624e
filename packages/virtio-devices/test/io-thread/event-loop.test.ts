import { EPOLLET, EPOLLIN } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import { IoEventLoop } from '../../src/index.js';
import { cleanupAfterEach, testEventFd } from '../support/cleanup.js';

const defer = cleanupAfterEach();
const eventFd = () => testEventFd(defer);
function loop(): IoEventLoop {
  const l = new IoEventLoop();
  defer(() => l.close());
  return l;
}

describe('IoEventLoop', () => {
  it('runs the handler of each ready descriptor with its events', () => {
    const l = loop();
    const [a, b] = [eventFd(), eventFd()];
    const seen: string[] = [];
    l.add(a.fd, EPOLLIN, (ev) => {
      a.read();
      seen.push(`a${ev}`);
    });
    l.add(b.fd, EPOLLIN, () => {
      b.read();
      seen.push('b');
    });
    expect(l.runOnce(0)).toBe(0);
    b.write(1);
    expect(l.runOnce(0)).toBe(1);
    a.write(1);
    b.write(1);
    expect(l.runOnce(1000)).toBe(2);
    expect(seen.sort()).toEqual([`a${EPOLLIN}`, 'b', 'b']);
    expect(l.size).toBe(2);
  });

  it('modifies and removes descriptors; a removed one’s pending event is dropped', () => {
    const l = loop();
    const [a, b] = [eventFd(), eventFd()];
    l.add(a.fd, EPOLLIN, () => {
      a.read();
      l.remove(b.fd);
    });
    l.add(b.fd, EPOLLIN, () => {
      b.read();
      l.remove(a.fd);
    });
    a.write(1);
    b.write(1);
    expect(l.runOnce(0)).toBe(1); // whichever ran first removed the other
    expect(l.size).toBe(1);
    const c = eventFd();
    let cRuns = 0;
    l.add(c.fd, EPOLLIN | EPOLLET, () => {
      cRuns++;
    });
    c.write(1);
    l.runOnce(0);
    l.runOnce(0); // edge-triggered: not again without a new write
    expect(cRuns).toBe(1);
    l.modify(c.fd, EPOLLIN);
    l.runOnce(0);
    expect(cRuns).toBe(2);
  });

  it('throws for a descriptor it does not have, and epoll’s errors for bad ones', () => {
    const l = loop();
    expect(() => l.remove(12345)).toThrow(RangeError);
    expect(() => l.modify(12345, EPOLLIN)).toThrow(RangeError);
    expect(() => l.add(0x7fff_fff0, EPOLLIN, () => undefined)).toThrow(
      expect.objectContaining({ code: 'EBADF' }),
    );
    expect(() => l.add(1, EPOLLIN, 'x' as never)).toThrow(TypeError);
    const a = eventFd();
    l.add(a.fd, EPOLLIN, () => undefined);
    expect(() => l.add(a.fd, EPOLLIN, () => undefined)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it('lets a handler’s exception propagate', () => {
    const l = loop();
    const a = eventFd();
    l.add(a.fd, EPOLLIN, () => {
      throw new Error('boom');
    });
    a.write(1);
    expect(() => l.runOnce(0)).toThrow('boom');
  });
});
