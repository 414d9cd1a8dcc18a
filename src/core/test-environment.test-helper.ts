// Test helpers for code that runs users: a logger that keeps its lines, and an Environment to hand runners.
import { defaultClientDefaults, type Environment } from './environment.ts';
import { Events } from './events.ts';
import type { Logger } from './logger.ts';

/** A logger that keeps every line as `LEVEL message`. */
export function linesLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (level: string) => (m: string): void => void lines.push(`${level} ${m}`);
  return { lines, debug: add('debug'), info: add('info'), warning: add('warning'), error: add('error') };
}

/** A fresh Environment with its own events and a lines logger. */
export function testEnvironment(overrides: Partial<Environment> = {}): Environment & { logger: ReturnType<typeof linesLogger> } {
  const logger = linesLogger();
  return { events: new Events(), host: undefined, logger, clientDefaults: defaultClientDefaults, parsedOptions: {}, runner: undefined, ...overrides } as Environment & { logger: typeof logger };
}
