#!/usr/bin/env node
/**
 * `node dist/cli.js build [--force]`: builds the test guest (the package's
 * `build` task runs this) and prints its path.
 */
import { buildTestGuest } from './build.js';

const [command, ...rest] = process.argv.slice(2);
if (command !== 'build' || rest.some((a) => a !== '--force')) {
  process.stderr.write('usage: test-guest build [--force]\n');
  process.exit(2);
}
const build = buildTestGuest({ force: rest.includes('--force') });
process.stdout.write(`${build.path}${build.built ? '' : ' (cached)'}\n`);
