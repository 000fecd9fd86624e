/**
 * A private network for one guest: a network namespace with a TAP device in
 * it (the VMM runs inside the namespace and attaches to the TAP), the host's
 * end of the link at 10.77.0.1 and the guest at 10.77.0.2, a static
 * neighbour entry for the guest (it speaks no ARP), and the peer program
 * listening in the namespace. Traffic never leaves the namespace. Needs root
 * and iproute2.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TestGuestError } from './errors.js';
import type { NetPeerStats } from './peer-protocol.js';

const PEER_PROGRAM = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../dist/net-peer.js' : './net-peer.js', import.meta.url),
);

/** One test network. Close it when done: it deletes the namespace and everything in it. */
export interface TestNetwork extends AsyncDisposable {
  /** The network namespace (run the VMM with `ip netns exec <namespace>`). */
  readonly namespace: string;
  /** The TAP device in it, for the guest's virtio-net. */
  readonly tap: string;
  readonly hostIp: string;
  readonly hostMac: string;
  readonly guestIp: string;
  /** The MAC the VMM must give the guest's NIC (the host's neighbour entry names it). */
  readonly guestMac: string;
  /** The UDP port of the peer (and of the guest). */
  readonly port: number;
  /** The peer's counters so far. */
  peerStats(): Promise<NetPeerStats>;
  close(): Promise<void>;
}

export const TEST_NETWORK = {
  hostIp: '10.77.0.1',
  guestIp: '10.77.0.2',
  prefix: 24,
  hostMac: '02:00:0a:4d:00:01',
  guestMac: '02:00:0a:4d:00:02',
  tap: 'tgtap0',
  port: 7777,
} as const;

/** How long the peer gets to end after its stdin closes. */
const PEER_EXIT_MS = 2000;

let counter = 0;
const open = new Set<string>();
let exitHook = false;

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function deleteNamespace(name: string): void {
  try {
    ip(['netns', 'delete', name]);
  } catch {
    // already gone
  }
  open.delete(name);
}

function fail(message: string, cause?: unknown): never {
  const detail = (cause as { stderr?: Buffer } | undefined)?.stderr?.toString().trim();
  throw new TestGuestError('NETWORK_SETUP_FAILED', detail ? `${message}: ${detail}` : message, { cause });
}

/** Options of {@link createTestNetwork}. */
export interface TestNetworkOptions {
  /** The namespace's name (default `tsvmm-tg-<pid>-<n>`); it must not exist yet. */
  readonly namespace?: string;
}

/**
 * Creates a test network and starts its peer.
 * @throws TestGuestError `NETWORK_SETUP_FAILED` (not root, no iproute2, no /dev/net/tun, the namespace
 * exists already, the peer did not start).
 */
export async function createTestNetwork(options: TestNetworkOptions = {}): Promise<TestNetwork> {
  const n = TEST_NETWORK;
  if (options.namespace !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(options.namespace))
    throw new RangeError(
      `namespace must be 1 to 64 letters, digits, '_', '.' or '-', got ${JSON.stringify(options.namespace)}`,
    );
  const namespace = options.namespace ?? `tsvmm-tg-${process.pid}-${counter++}`;
  if (!exitHook) {
    // A test that dies must not leave namespaces behind.
    process.once('exit', () => {
      for (const name of [...open]) deleteNamespace(name);
    });
    exitHook = true;
  }
  try {
    ip(['netns', 'add', namespace]);
  } catch (e) {
    fail(
      `cannot create network namespace ${namespace} (root and iproute2 are needed; the name must be new)`,
      e,
    );
  }
  open.add(namespace);
  let peer: ChildProcessWithoutNullStreams | undefined;
  try {
    const inNs = (...args: string[]) => ip(['-n', namespace, ...args]);
    inNs('link', 'set', 'lo', 'up');
    inNs('tuntap', 'add', 'dev', n.tap, 'mode', 'tap');
    inNs('link', 'set', n.tap, 'address', n.hostMac);
    inNs('addr', 'add', `${n.hostIp}/${n.prefix}`, 'dev', n.tap);
    inNs('link', 'set', n.tap, 'up');
    inNs('neigh', 'replace', n.guestIp, 'lladdr', n.guestMac, 'dev', n.tap, 'nud', 'permanent');
    // No IPv6 on the link: no router solicitations or neighbour discovery for the guest to skip.
    execFileSync(
      'ip',
      ['netns', 'exec', namespace, 'sysctl', '-q', '-w', `net.ipv6.conf.${n.tap}.disable_ipv6=1`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    peer = spawn(
      'ip',
      ['netns', 'exec', namespace, process.execPath, PEER_PROGRAM, n.hostIp, String(n.port)],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
  } catch (e) {
    deleteNamespace(namespace);
    fail(`cannot set up the test network in ${namespace}`, e);
  }
  const proc = peer;
  const lines = createInterface({ input: proc.stdout });
  const waiting: ((line: string) => void)[] = [];
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  lines.on('line', (line) => waiting.shift()?.(line));
  const nextLine = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const onExit = () =>
        reject(new TestGuestError('NETWORK_SETUP_FAILED', `the peer ended before ${what}: ${stderr}`));
      proc.once('exit', onExit);
      waiting.push((line) => {
        proc.off('exit', onExit);
        resolve(line);
      });
    });
  try {
    const ready = await nextLine('it was ready');
    if (JSON.parse(ready).ready !== true)
      throw new TestGuestError('NETWORK_SETUP_FAILED', `the peer said ${ready}`);
  } catch (e) {
    proc.kill();
    deleteNamespace(namespace);
    throw e;
  }
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      // The peer ends when its stdin does; one that does not is killed.
      const kill = setTimeout(() => proc.kill('SIGKILL'), PEER_EXIT_MS);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.stdin.end();
      if (proc.exitCode !== null || proc.signalCode !== null) {
        clearTimeout(kill);
        resolve();
      }
    }).then(() => deleteNamespace(namespace));
    return closed;
  };
  return {
    namespace,
    tap: n.tap,
    hostIp: n.hostIp,
    hostMac: n.hostMac,
    guestIp: n.guestIp,
    guestMac: n.guestMac,
    port: n.port,
    async peerStats() {
      const answer = nextLine('it sent its counters');
      proc.stdin.write('stats\n');
      return JSON.parse(await answer) as NetPeerStats;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
