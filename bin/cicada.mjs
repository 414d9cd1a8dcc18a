#!/usr/bin/env node
// The `cicada` command: registers the TypeScript loader, then hands over to the CLI.
import { register } from 'tsx/esm/api';

register();
// A reader that goes away (`cicada ... | head`) must not turn every later write into an error that is logged
// (another write, another error: a busy loop). Output to a closed pipe is dropped; the run goes on and ends as usual.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Open sockets or user timers must not keep a finished run alive: flush output, then exit.
process.stdout.write('', () => process.exit(code));
