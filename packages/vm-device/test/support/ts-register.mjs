// Passed to a Worker as `--import`: installs ./ts-hooks.mjs in that thread.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
