/**
 * Kernel config fragments: what a fragment asks for, and whether a final
 * .config gives it. tinyconfig + olddefconfig silently drop an option whose
 * dependencies are missing, so the build checks every line.
 */
import { GuestKitError } from './error.js';

/** One option of a fragment: `CONFIG_X=value`, or `# CONFIG_X is not set` (value `n`). */
export interface ConfigOption {
  readonly name: string;
  readonly value: string;
}

const SET = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

/** The options of a config file or fragment, in order; other lines (comments, blanks) are skipped. */
export function parseKernelConfig(text: string): ConfigOption[] {
  const options: ConfigOption[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = SET.exec(line);
    if (set !== null) {
      options.push({ name: set[1]!, value: set[2]! });
      continue;
    }
    const unset = UNSET.exec(line);
    if (unset !== null) options.push({ name: unset[1]!, value: 'n' });
  }
  return options;
}

/** An option the fragment asks for and the value the final .config has (`n` when absent or unset). */
export interface ConfigMismatch {
  readonly name: string;
  readonly wanted: string;
  readonly actual: string;
}

/** Every option of `fragment` whose value in `dotConfig` differs; an absent option counts as `n`. */
export function kernelConfigMismatches(fragment: string, dotConfig: string): ConfigMismatch[] {
  const actual = new Map(parseKernelConfig(dotConfig).map((option) => [option.name, option.value]));
  return parseKernelConfig(fragment)
    .map((option) => ({ name: option.name, wanted: option.value, actual: actual.get(option.name) ?? 'n' }))
    .filter((option) => option.wanted !== option.actual);
}

/** Throws CONFIG_MISMATCH listing every option of `fragment` that `dotConfig` does not give. */
export function assertKernelConfig(fragment: string, dotConfig: string): void {
  const mismatches = kernelConfigMismatches(fragment, dotConfig);
  if (mismatches.length === 0) return;
  const list = mismatches.map((m) => `${m.name}=${m.actual} (wanted ${m.wanted})`).join(', ');
  throw new GuestKitError(
    'CONFIG_MISMATCH',
    `the kernel config lacks ${mismatches.length} option(s) of the fragment, probably a missing dependency: ${list}`,
  );
}
