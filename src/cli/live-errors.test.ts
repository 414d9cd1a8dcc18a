import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Events } from '../core/events.ts';
import { silentLogger } from '../core/logger.ts';
import { attachLiveErrors } from './live-errors.ts';

function capture(): { events: Events; lines: string[]; stop: () => void } {
  const events = new Events();
  const lines: string[] = [];
  const stop = attachLiveErrors(events, { ...silentLogger, error: (line) => lines.push(line) });
  return { events, lines, stop };
}

class Shopper {}

describe('attachLiveErrors', () => {
  it("names the user's class and the task, and keeps only the cicadafile's frames", () => {
    const { events, lines, stop } = capture();
    const error = new TypeError('x is not a function');
    error.stack = [
      'TypeError: x is not a function',
      '    at Shopper.buy (/home/me/load/cicadafile.ts:12:5)',
      `    at runTask (${import.meta.dirname}/../core/user-loop.ts:107:9)`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    ].join('\n');
    events.userError.fire({ user: new Shopper(), error, task: 'buy' });
    stop();
    assert.deepEqual(lines, ['Shopper.buy: TypeError: x is not a function\n    at Shopper.buy (/home/me/load/cicadafile.ts:12:5)']);
  });

  it('keeps the other frames of an error raised wholly outside the cicadafile, rather than none', () => {
    const { events, lines, stop } = capture();
    const error = new Error('bad option');
    error.stack = ['Error: bad option', '    at check (/x/node_modules/lib/index.js:3:9)'].join('\n');
    events.userError.fire({ user: {}, error, task: 'Shopper constructor' });
    stop();
    assert.deepEqual(lines, ['Shopper constructor: Error: bad option\n    at check (/x/node_modules/lib/index.js:3:9)']);
  });

  it('flushes pending counts when the test stops, and listens no more once detached', () => {
    const { events, lines, stop } = capture();
    const fire = (): void => events.userError.fire({ user: new Shopper(), error: new Error('down'), task: 'buy' });
    fire();
    fire();
    fire();
    events.testStop.fire({ environment: undefined as never });
    stop();
    fire();
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^Shopper\.buy: Error: down \(2 more in the last \d+ s\)$/);
  });
});
