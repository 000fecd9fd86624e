/**
 * The reference VMM's configuration: one validated shape, built from command
 * line flags, from a Firecracker-style JSON file (`--config`), or from both
 * (flags override the file). Everything that can be checked without creating
 * a VM is checked here, so bad input fails before any KVM call.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { VmmError } from './errors.js';

/** How the kernel is entered. `auto` picks from the image: ELF → PVH when it has the note, else 64-bit. */
export type BootProtocol = 'auto' | 'elf' | 'bzimage' | 'pvh';

/** A block device backed by a raw image file. */
export interface DriveConfig {
  id: string;
  path: string;
  readOnly: boolean;
  isRootDevice: boolean;
  /** The serial the guest reads with VIRTIO_BLK_T_GET_ID (at most 20 bytes). */
  serial?: string;
}

/** A network device backed by a TAP interface on the host. */
export interface NetConfig {
  id: string;
  tap: string;
  /** The guest's MAC address, `aa:bb:cc:dd:ee:ff`. */
  mac?: string;
  /** Create the TAP interface if it does not exist (it then lasts as long as the VM). */
  create?: boolean;
}

/** A complete, validated VM configuration. */
export interface VmConfig {
  kernel: string;
  initrd?: string;
  cmdline: string;
  memoryMiB: number;
  vcpus: number;
  boot: BootProtocol;
  drives: DriveConfig[];
  net: NetConfig[];
  rng: boolean;
}

/**
 * The default kernel command line: serial console on ttyS0, reboot through the
 * i8042 reset line, no reboot on panic (the VMM reports the panic instead of
 * booting again), and the options a guest needs on a host whose KVM
 * interprets guest kernel code (see DESIGN.md: they hide CPU features the
 * emulator lacks and skip slow or hypercall-using paths). All are harmless on
 * hardware KVM.
 */
export const DEFAULT_CMDLINE = [
  'console=ttyS0',
  'reboot=k',
  'panic=-1',
  'quiet',
  'noxsave',
  'clearcpuid=popcnt,smap,smep,erms,fsrm',
  'nosmap',
  'nosmep',
  'mitigations=off',
  'nopti',
  'nopv',
  '8250.nr_uarts=1',
  'tsc=reliable',
  'no_timer_check',
  'percpu_alloc=page',
  'rodata=off',
].join(' ');

export const DEFAULT_MEMORY_MIB = 128;
export const DEFAULT_VCPUS = 1;
/** Below this Linux does not get far enough to say why it failed. */
export const MIN_MEMORY_MIB = 16;
/** The MP table and the xAPIC give each CPU an 8-bit APIC id; 255 is the broadcast id. */
export const MAX_VCPUS = 254;

export const USAGE = `usage: reference-vmm --kernel <path> [options]
       reference-vmm --config <file.json> [options]

  --kernel <path>        kernel image: ELF vmlinux or bzImage
  --initrd <path>        initial ramdisk
  --cmdline <string>     kernel command line (default: a console on ttyS0 and the options
                         this VMM's guests need; see --help-cmdline)
  --memory <MiB>         guest RAM (default ${DEFAULT_MEMORY_MIB})
  --vcpus <n>            number of vCPUs (default ${DEFAULT_VCPUS})
  --boot <protocol>      elf | bzimage | pvh | auto (default auto: detected from the image)
  --disk <path>[,ro][,id=<serial>]
                         a virtio-blk disk (repeatable; the first may be the root device)
  --net tap=<name>[,mac=<mac>][,create]
                         a virtio-net device on a TAP interface (repeatable); with create,
                         the TAP is made if it does not exist and lasts as long as the VM
  --rng                  a virtio-rng device fed from the host's random source
  --config <file.json>   settings in Firecracker's --config-file shape (boot-source,
                         machine-config, drives, network-interfaces, entropy); flags override it
  --help                 this text
  --help-cmdline         print the default kernel command line

Exit status: 0 guest powered off, 1 error before or while running, 2 usage,
             3 guest rebooted, 4 guest panicked, 5 triple fault or shutdown,
             6 KVM internal error, 130/143 stopped by SIGINT/SIGTERM.`;

function fail(code: ConstructorParameters<typeof VmmError>[0], message: string, cause?: unknown): never {
  throw new VmmError(code, message, cause === undefined ? undefined : { cause });
}

/** Parses a whole number from a flag or JSON value, with the setting's name in the error. */
function parseCount(value: unknown, what: string, min: number, max: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    fail('CONFIG_VALUE', `${what} must be a whole number, got ${JSON.stringify(value)}`);
  if (n < min || n > max) fail('CONFIG_VALUE', `${what} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** The most memory a guest may ask for on this host: all of the host's RAM. */
export function maxMemoryMiB(): number {
  return Math.floor(totalmem() / (1024 * 1024));
}

function checkReadable(path: string, code: 'KERNEL' | 'INITRD' | 'DISK', what: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
    accessSync(path, constants.R_OK);
  } catch (e) {
    const reason =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${(e as NodeJS.ErrnoException).code})`;
    fail(code, `${what} ${path} ${reason}`, e);
  }
  if (!st.isFile() && !st.isBlockDevice()) fail(code, `${what} ${path} is not a regular file`);
  if (st.size === 0) fail(code, `${what} ${path} is empty`);
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

function checkMac(mac: string, what: string): string {
  if (!MAC_RE.test(mac))
    fail('CONFIG_VALUE', `${what} ${JSON.stringify(mac)} is not a MAC address like 02:00:00:00:00:01`);
  const first = Number.parseInt(mac.slice(0, 2), 16);
  if (first & 1) fail('CONFIG_VALUE', `${what} ${mac} is a multicast address; a NIC needs a unicast one`);
  return mac.toLowerCase();
}

/** `--disk <path>[,ro][,id=<serial>]` */
export function parseDiskFlag(spec: string, index: number): DriveConfig {
  const [path, ...opts] = spec.split(',');
  if (!path)
    fail('USAGE', `--disk needs a path: --disk <path>[,ro][,id=<serial>], got ${JSON.stringify(spec)}`);
  const drive: DriveConfig = { id: `disk${index}`, path, readOnly: false, isRootDevice: false };
  for (const opt of opts) {
    if (opt === 'ro') drive.readOnly = true;
    else if (opt === 'root') drive.isRootDevice = true;
    else if (opt.startsWith('id=')) drive.serial = opt.slice(3);
    else fail('USAGE', `--disk: unknown option ${JSON.stringify(opt)} (known: ro, root, id=<serial>)`);
  }
  return drive;
}

/** `--net tap=<name>[,mac=<mac>][,create]` */
export function parseNetFlag(spec: string, index: number): NetConfig {
  const net: Partial<NetConfig> = { id: `net${index}` };
  for (const opt of spec.split(',')) {
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'tap' && value) net.tap = value;
    else if (key === 'mac' && value) net.mac = value;
    else if (opt === 'create') net.create = true;
    else
      fail(
        'USAGE',
        `--net: unknown or empty option ${JSON.stringify(opt)} (known: tap=<name>, mac=<mac>, create)`,
      );
  }
  if (!net.tap) fail('USAGE', `--net needs tap=<name>, got ${JSON.stringify(spec)}`);
  return net as NetConfig;
}

type Json = Record<string, unknown>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('CONFIG_TYPE', `${where} must be an object`);
  return value as Json;
}

function onlyKeys(
  obj: Json,
  where: string,
  known: readonly string[],
  unsupported: readonly string[] = [],
): void {
  for (const key of Object.keys(obj)) {
    if (unsupported.includes(key)) fail('CONFIG_UNSUPPORTED', `${where}.${key} is not supported by this VMM`);
    if (!known.includes(key))
      fail('CONFIG_UNKNOWN_KEY', `${where}: unknown key ${JSON.stringify(key)} (known: ${known.join(', ')})`);
  }
}

function str(obj: Json, key: string, where: string, required: true): string;
function str(obj: Json, key: string, where: string, required?: false): string | undefined;
function str(obj: Json, key: string, where: string, required = false): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) fail('CONFIG_VALUE', `${where}.${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0)
    fail('CONFIG_TYPE', `${where}.${key} must be a non-empty string`);
  return v;
}

function bool(obj: Json, key: string, where: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail('CONFIG_TYPE', `${where}.${key} must be true or false`);
  return v;
}

/** Settings read from a Firecracker-style config file, before flags are applied. */
export type PartialConfig = Partial<VmConfig>;

/**
 * Reads a config in the shape of Firecracker's `--config-file`. Unknown keys
 * are errors (as in Firecracker); keys Firecracker has but this VMM does not
 * implement (rate limiters, CPU templates, ...) are refused by name.
 */
export function parseFirecrackerConfig(text: string, source = 'config'): PartialConfig {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    fail('CONFIG_JSON', `${source} is not valid JSON: ${(e as Error).message}`, e);
  }
  const top = object(root, source);
  onlyKeys(
    top,
    source,
    ['boot-source', 'machine-config', 'drives', 'network-interfaces', 'entropy'],
    ['logger', 'metrics', 'mmds-config', 'balloon', 'vsock', 'cpu-config'],
  );
  const out: PartialConfig = {};

  if (top['boot-source'] !== undefined) {
    const where = 'boot-source';
    const bs = object(top[where], where);
    onlyKeys(bs, where, ['kernel_image_path', 'boot_args', 'initrd_path']);
    out.kernel = str(bs, 'kernel_image_path', where, true);
    const args = str(bs, 'boot_args', where);
    if (args !== undefined) out.cmdline = args;
    const initrd = str(bs, 'initrd_path', where);
    if (initrd !== undefined) out.initrd = initrd;
  }

  if (top['machine-config'] !== undefined) {
    const where = 'machine-config';
    const mc = object(top[where], where);
    onlyKeys(
      mc,
      where,
      ['vcpu_count', 'mem_size_mib', 'smt', 'track_dirty_pages'],
      ['cpu_template', 'huge_pages'],
    );
    if (mc.vcpu_count !== undefined)
      out.vcpus = parseCount(mc.vcpu_count, `${where}.vcpu_count`, 1, MAX_VCPUS);
    if (mc.mem_size_mib !== undefined)
      out.memoryMiB = parseCount(mc.mem_size_mib, `${where}.mem_size_mib`, MIN_MEMORY_MIB, maxMemoryMiB());
    if (bool(mc, 'smt', where) === true)
      fail('CONFIG_UNSUPPORTED', `${where}.smt: simultaneous multithreading topology is not supported`);
    bool(mc, 'track_dirty_pages', where);
  }

  if (top.drives !== undefined) {
    if (!Array.isArray(top.drives)) fail('CONFIG_TYPE', 'drives must be an array');
    out.drives = top.drives.map((d, i) => {
      const where = `drives[${i}]`;
      const drive = object(d, where);
      onlyKeys(
        drive,
        where,
        ['drive_id', 'path_on_host', 'is_root_device', 'is_read_only', 'partuuid', 'cache_type', 'io_engine'],
        ['rate_limiter', 'socket'],
      );
      const cache = str(drive, 'cache_type', where);
      if (cache !== undefined && cache !== 'Unsafe' && cache !== 'Writeback')
        fail('CONFIG_VALUE', `${where}.cache_type must be Unsafe or Writeback`);
      const engine = str(drive, 'io_engine', where);
      if (engine !== undefined && engine !== 'Sync')
        fail('CONFIG_UNSUPPORTED', `${where}.io_engine ${engine} is not supported (only Sync)`);
      if (str(drive, 'partuuid', where) !== undefined)
        fail(
          'CONFIG_UNSUPPORTED',
          `${where}.partuuid is not supported: give the root device on the command line`,
        );
      return {
        id: str(drive, 'drive_id', where, true),
        path: str(drive, 'path_on_host', where, true),
        readOnly: bool(drive, 'is_read_only', where) ?? false,
        isRootDevice: bool(drive, 'is_root_device', where) ?? false,
      };
    });
  }

  if (top['network-interfaces'] !== undefined) {
    const list = top['network-interfaces'];
    if (!Array.isArray(list)) fail('CONFIG_TYPE', 'network-interfaces must be an array');
    out.net = list.map((n, i) => {
      const where = `network-interfaces[${i}]`;
      const nic = object(n, where);
      onlyKeys(
        nic,
        where,
        ['iface_id', 'host_dev_name', 'guest_mac'],
        ['rx_rate_limiter', 'tx_rate_limiter'],
      );
      const net: NetConfig = {
        id: str(nic, 'iface_id', where, true),
        tap: str(nic, 'host_dev_name', where, true),
      };
      const mac = str(nic, 'guest_mac', where);
      if (mac !== undefined) net.mac = mac;
      return net;
    });
  }

  if (top.entropy !== undefined) {
    const ent = object(top.entropy, 'entropy');
    onlyKeys(ent, 'entropy', [], ['rate_limiter']);
    out.rng = true;
  }
  return out;
}

/** What the command line asked for: a VM to run, or something to print. */
export type ParsedCommandLine = { kind: 'run'; config: VmConfig } | { kind: 'print'; text: string };

/**
 * Parses the reference VMM's flags (with `--config` merged in) into a checked
 * configuration. Throws a VmmError with code USAGE for unknown or malformed
 * flags, and the codes of {@link finalizeConfig} for bad settings.
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (e) {
    fail('USAGE', `${(e as Error).message}\n\n${USAGE}`, e);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'print', text: USAGE };
  if (values['help-cmdline']) return { kind: 'print', text: DEFAULT_CMDLINE };
  if (positionals.length > 0)
    fail('USAGE', `unexpected argument ${JSON.stringify(positionals[0])}\n\n${USAGE}`);

  let base: PartialConfig = {};
  if (values.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(values.config, 'utf8');
    } catch (e) {
      fail(
        'CONFIG_FILE',
        `cannot read config file ${values.config}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        e,
      );
    }
    base = parseFirecrackerConfig(text, values.config);
  }
  const merged: PartialConfig = { ...base };
  if (values.kernel !== undefined) merged.kernel = values.kernel;
  if (values.initrd !== undefined) merged.initrd = values.initrd;
  if (values.cmdline !== undefined) merged.cmdline = values.cmdline;
  if (values.memory !== undefined)
    merged.memoryMiB = parseCount(values.memory, '--memory', MIN_MEMORY_MIB, maxMemoryMiB());
  if (values.vcpus !== undefined) merged.vcpus = parseCount(values.vcpus, '--vcpus', 1, MAX_VCPUS);
  if (values.boot !== undefined) merged.boot = values.boot as BootProtocol;
  if (values.disk !== undefined)
    merged.drives = [...(merged.drives ?? []), ...values.disk.map(parseDiskFlag)];
  if (values.net !== undefined) merged.net = [...(merged.net ?? []), ...values.net.map(parseNetFlag)];
  if (values.rng) merged.rng = true;
  return { kind: 'run', config: finalizeConfig(merged) };
}

function parseFlags(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      cmdline: { type: 'string' },
      memory: { type: 'string' },
      vcpus: { type: 'string' },
      boot: { type: 'string' },
      disk: { type: 'string', multiple: true },
      net: { type: 'string', multiple: true },
      rng: { type: 'boolean' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      'help-cmdline': { type: 'boolean' },
    },
  });
}

const BOOT_PROTOCOLS: readonly BootProtocol[] = ['auto', 'elf', 'bzimage', 'pvh'];

/**
 * Fills in defaults and checks everything that can be checked without a VM:
 * the kernel, initrd and disk files exist and are readable, counts are in
 * range, ids are unique, MAC addresses are unicast.
 */
export function finalizeConfig(partial: PartialConfig): VmConfig {
  if (partial.kernel === undefined)
    fail('USAGE', `a kernel is required (--kernel or boot-source.kernel_image_path)\n\n${USAGE}`);
  const boot = partial.boot ?? 'auto';
  if (!BOOT_PROTOCOLS.includes(boot))
    fail(
      'CONFIG_VALUE',
      `boot protocol must be one of ${BOOT_PROTOCOLS.join(', ')}, got ${JSON.stringify(boot)}`,
    );
  const config: VmConfig = {
    kernel: partial.kernel,
    cmdline: partial.cmdline ?? DEFAULT_CMDLINE,
    memoryMiB: partial.memoryMiB ?? DEFAULT_MEMORY_MIB,
    vcpus: partial.vcpus ?? DEFAULT_VCPUS,
    boot,
    drives: partial.drives ?? [],
    net: partial.net ?? [],
    rng: partial.rng ?? false,
  };
  if (partial.initrd !== undefined) config.initrd = partial.initrd;
  parseCount(config.memoryMiB, 'memory (MiB)', MIN_MEMORY_MIB, maxMemoryMiB());
  parseCount(config.vcpus, 'vCPU count', 1, MAX_VCPUS);
  if (config.cmdline.includes('\0')) fail('CONFIG_VALUE', 'the kernel command line must not contain NUL');

  checkReadable(config.kernel, 'KERNEL', 'kernel');
  if (config.initrd !== undefined) checkReadable(config.initrd, 'INITRD', 'initrd');

  const ids = new Set<string>();
  const unique = (id: string, what: string) => {
    if (ids.has(id)) fail('CONFIG_VALUE', `${what} id ${JSON.stringify(id)} is used twice`);
    ids.add(id);
  };
  let roots = 0;
  for (const d of config.drives) {
    unique(d.id, 'drive');
    checkReadable(d.path, 'DISK', `disk ${d.id}:`);
    if (!d.readOnly) {
      try {
        accessSync(d.path, constants.W_OK);
      } catch (e) {
        fail(
          'DISK',
          `disk ${d.id}: ${d.path} is not writable; add ,ro (or is_read_only) to attach it read-only`,
          e,
        );
      }
    }
    if (d.serial !== undefined && Buffer.byteLength(d.serial) > 20)
      fail('CONFIG_VALUE', `disk ${d.id}: id=${d.serial} is longer than the 20 bytes virtio-blk allows`);
    if (d.isRootDevice) roots++;
  }
  if (roots > 1) fail('CONFIG_VALUE', 'only one drive can be the root device');
  for (const n of config.net) {
    unique(n.id, 'network interface');
    if (n.tap.length > 15 || !/^[\w.-]+$/.test(n.tap))
      fail(
        'CONFIG_VALUE',
        `TAP name ${JSON.stringify(n.tap)} must be 1-15 characters of letters, digits, '.', '-' or '_'`,
      );
    if (n.mac !== undefined) n.mac = checkMac(n.mac, `network interface ${n.id}: MAC`);
  }
  return config;
}
