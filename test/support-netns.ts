/**
 * A host peer for a guest's network device, in a network namespace of the
 * test's own: a TAP interface that the VMM opens by name, which then moves
 * into the namespace and gets the peer's address there. The namespace has
 * no other interface and no route out, and its addresses are TEST-NET-1
 * (192.0.2.0/24, RFC 5737), so the guest can reach nothing but the peer.
 * {@link NetPeer.remove} deletes the namespace and the TAP even after a failure.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

/** The peer's address inside the namespace. */
export const PEER_IP = '192.0.2.1';
/** The address the guest takes. */
export const GUEST_IP = '192.0.2.2';

const run = (args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });
const interfaces = (): string[] =>
  [...readFileSync('/proc/net/dev', 'utf8').matchAll(/^\s*([^\s:]+):/gm)].map((m) => m[1]!);

/** The peer of one test; see the module comment. */
export interface NetPeer {
  /** The namespace's name. */
  readonly netns: string;
  /** The TAP's name, for `--net tap=<name>`. */
  readonly tap: string;
  /**
   * Moves the TAP (opened by the VMM meanwhile: its file keeps working) into
   * the namespace, gives it {@link PEER_IP} and brings it up.
   */
  attach(): void;
  /** Runs a command in the namespace; returns its stdout. */
  exec(...command: string[]): string;
  /**
   * Starts `command` in the namespace; `stop()` ends it (SIGINT) and
   * resolves with what it printed.
   */
  start(...command: string[]): { stop(): Promise<string> };
  /** Stops what {@link NetPeer.start} started, deletes the namespace (and the TAP in it) or the TAP left outside. Idempotent. */
  remove(): void;
}

/** Makes a namespace (IPv6 off, so the peer's kernel sends nothing unasked) and a persistent TAP outside it. */
export function createNetPeer(): NetPeer {
  const id = `${process.pid % 1_000_000}${Math.floor(Math.random() * 1000)}`;
  const netns = `tsvmm-e2e-${id}`;
  const tap = `tsve${id}`.slice(0, 15);
  const children: ChildProcess[] = [];
  let removed = false;
  const peer: NetPeer = {
    netns,
    tap,
    exec: (...command) => run(['ip', 'netns', 'exec', netns, ...command]),
    attach() {
      run(['ip', 'link', 'set', tap, 'netns', netns]);
      peer.exec('ip', 'addr', 'add', `${PEER_IP}/24`, 'dev', tap);
      peer.exec('ip', 'link', 'set', tap, 'up');
    },
    start(...command) {
      const child = spawn('ip', ['netns', 'exec', netns, ...command], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      return {
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = once(child, 'exit');
            child.kill('SIGINT');
            await exited;
          }
          return out;
        },
      };
    },
    remove() {
      if (removed) return;
      removed = true;
      for (const child of children) child.kill();
      run(['ip', 'netns', 'del', netns]);
      if (interfaces().includes(tap)) run(['ip', 'tuntap', 'del', 'dev', tap, 'mode', 'tap']);
    },
  };
  run(['ip', 'netns', 'add', netns]);
  try {
    peer.exec(
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    );
    peer.exec('ip', 'link', 'set', 'lo', 'up');
    run(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  } catch (err) {
    peer.remove();
    throw err;
  }
  return peer;
}
