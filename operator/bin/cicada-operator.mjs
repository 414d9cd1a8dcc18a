#!/usr/bin/env node
// Starts the Cicada operator (TypeScript run through tsx, as the cicada command does).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
main().catch((error) => {
  process.stderr.write(`cicada-operator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
