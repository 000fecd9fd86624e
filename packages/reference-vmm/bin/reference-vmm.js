#!/usr/bin/env node
import { main } from '../dist/cli.js';

// stdin may keep the event loop alive after the VM ended: exit explicitly.
process.exit(await main(process.argv.slice(2)));
