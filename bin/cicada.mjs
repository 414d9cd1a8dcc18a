#!/usr/bin/env node
// The `cicada` command: registers the TypeScript loader, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Open sockets or user timers must not keep a finished run alive: flush output, then exit.
process.stdout.write('', () => process.exit(code));
