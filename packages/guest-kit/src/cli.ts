#!/usr/bin/env node
/**
 * `pnpm guest:build` (`tsvmm-guest-kit`): builds the guest kit or finds it up
 * to date, then lists its outputs with sizes and SHA-256.
 */
import { parseArgs } from 'node:util';
import { GuestKitError } from './error.js';
import { ensureGuestKit, findGuestKit } from './guest-kit.js';
import { formatOutputs } from './manifest.js';

const usage = `usage: tsvmm-guest-kit [--find] [--jobs N] [--cache-dir DIR]

Builds the tsvmm guest kit (kernel, initramfs, rootfs, Debian kernel) from
Debian packages into the cache, or finds it there, and lists its files.
  --find           only look in the cache; exit status 1 when the kit is not built
  --jobs N         parallel jobs for the kernel build (default: number of CPUs)
  --cache-dir DIR  cache root (default: $TSVMM_GUEST_KIT_DIR or ~/.cache/tsvmm/guest-kit)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      find: { type: 'boolean', default: false },
      jobs: { type: 'string' },
      'cache-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const options = {
    ...(values['cache-dir'] !== undefined && { cacheDir: values['cache-dir'] }),
    ...(values.jobs !== undefined && { jobs: Number(values.jobs) }),
  };
  const kit = values.find ? await findGuestKit(options) : await ensureGuestKit(options);
  if (kit === undefined) {
    console.error('guest-kit: not built for the current inputs (run: pnpm guest:build)');
    return 1;
  }
  console.log(`${kit.dir}\n${formatOutputs(kit.manifest)}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof GuestKitError) {
      console.error(`guest-kit: error (${error.code}): ${error.message}`);
    } else if (error instanceof TypeError || error instanceof RangeError) {
      console.error(`guest-kit: ${error.message}\n${usage}`);
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  },
);
