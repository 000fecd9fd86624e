/**
 * Network namespaces for the TAP tests: each test file makes its own
 * namespace, puts a TAP device in it with the host peer's address, and
 * removes it afterwards (namespaces left by a test run that was killed are
 * removed by the next one). Traffic goes only between the test and that
 * namespace: it has no other interface and no route out, and its addresses
 * are TEST-NET-1 (192.0.2.0/24, RFC 5737), never routed anywhere.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { Tap } from '../../src/net/tap.js';

/** The address of the host peer, inside the namespace. */
export const PEER_IP = '192.0.2.1';
/** The address the test's guest side uses. */
export const GUEST_IP = '192.0.2.2';
/** The prefix of every namespace these tests make: `tsvmm-net-<pid>-<n>`. */
const PREFIX = 'tsvmm-net-';

/** Runs `ip` with `args`; throws with its stderr if it fails. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Whether process `pid` is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the namespaces, and the TAP interfaces in this one, that earlier
 * test processes made and did not remove (they were killed): both carry the
 * maker's pid in their names.
 */
let staleRemoved = false;
function removeStale(): void {
  if (staleRemoved) return;
  staleRemoved = true;
  let namespaces: string[] = [];
  try {
    namespaces = readdirSync('/run/netns');
  } catch {
    // no namespace at all yet
  }
  for (const name of namespaces) {
    const pid = Number(/^tsvmm-net-(\d+)-\d+$/.exec(name)?.[1]);
    if (pid && !alive(pid)) ip('netns', 'del', name);
  }
  for (const [, name, pid] of readFileSync('/proc/net/dev', 'utf8').matchAll(/^\s*(tsv(\d+)n\d+):/gm))
    if (!alive(Number(pid))) ip('link', 'del', name!);
}

let counter = 0;

/** A namespace made by {@link createNetns}. */
export interface TestNetns {
  /** Its name (`ip netns exec <name> …`). */
  readonly name: string;
  /** Runs a command inside it; returns its stdout. */
  exec(command: string, ...args: string[]): string;
  /**
   * Moves interface `dev` (e.g. a TAP this process opened) into the namespace,
   * gives it the peer's address and brings it up; the guest's MAC becomes a
   * permanent neighbour, so the peer never needs ARP to reach the guest.
   */
  adopt(dev: string, guestMac: string, options?: { mtu?: number }): void;
  /** Deletes the namespace and every interface in it. Idempotent. */
  remove(): void;
}

/** Makes a fresh namespace with IPv6 off (so the kernel sends no frame of its own) and `lo` up. */
export function createNetns(): TestNetns {
  removeStale();
  const name = `${PREFIX}${process.pid}-${counter++}`;
  ip('netns', 'add', name);
  let removed = false;
  const ns: TestNetns = {
    name,
    exec: (command, ...args) =>
      execFileSync('ip', ['netns', 'exec', name, command, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    adopt(dev, guestMac, options = {}) {
      ip('link', 'set', dev, 'netns', name);
      ns.exec('ip', 'addr', 'add', `${PEER_IP}/24`, 'dev', dev);
      if (options.mtu !== undefined) ns.exec('ip', 'link', 'set', dev, 'mtu', String(options.mtu));
      ns.exec('ip', 'link', 'set', dev, 'up');
      ns.exec('ip', 'neigh', 'replace', GUEST_IP, 'lladdr', guestMac, 'dev', dev, 'nud', 'permanent');
    },
    remove() {
      if (removed) return;
      removed = true;
      ip('netns', 'del', name);
    },
  };
  try {
    ns.exec('sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    ns.exec('ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    ns.remove();
    throw err;
  }
  return ns;
}

/** What {@link tapInNetns} made. */
export interface TapInNetns {
  readonly ns: TestNetns;
  /** Opened by this process (and created by it: it goes away when closed). */
  readonly tap: Tap;
  /** The MAC address of the TAP interface, the peer's. */
  readonly peerMac: string;
}

/**
 * A namespace of its own with a TAP this process creates and opens, moved
 * in and given the peer's address, the guest's MAC a permanent neighbour.
 * Close the TAP and remove the namespace afterwards.
 */
export function tapInNetns(guestMac: string): TapInNetns {
  const ns = createNetns();
  try {
    const tap = Tap.open(tapName(), { create: true });
    try {
      ns.adopt(tap.name, guestMac);
      const peerMac: string = JSON.parse(ns.exec('ip', '-j', 'link', 'show', tap.name))[0].address;
      return { ns, tap, peerMac };
    } catch (err) {
      tap.close();
      throw err;
    }
  } catch (err) {
    ns.remove();
    throw err;
  }
}

/** A unique TAP name for this process: `tsv<pid>n<n>` (at most 15 bytes: a pid has at most 7 digits). */
export function tapName(): string {
  removeStale();
  return `tsv${process.pid}n${counter++}`;
}

/** Starts a Node server script inside the namespace; resolves once it printed its first line (it listens). */
export async function nodeServerIn(ns: TestNetns, script: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout, 'data');
  return child;
}

/**
 * Runs a Node script inside the namespace and resolves with its stdout once
 * it exits with status 0 (rejects otherwise).
 */
export function nodeIn(ns: TestNetns, script: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (status) => {
      if (status === 0) resolve(out);
      else reject(new Error(`node in ${ns.name} exited with ${status}: ${err}`));
    });
  });
}
