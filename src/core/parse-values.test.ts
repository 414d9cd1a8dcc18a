// Tests for the option value parsers: time spans, counts, rates, URLs, ports, switches and lists.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from './errors.ts';
import {
  MAX_TIME_SPAN_SECONDS, parseBoolean, parseChoice, parseHostUrl, parsePort, parsePositiveInt, parseRate, parseTimeSpan, splitList,
} from './parse-values.ts';

function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof UsageError, 'expected a UsageError');
    assert.match(error.message, message);
    assert.ok(error.hint !== undefined && error.hint.length > 0, 'expected a hint');
    return true;
  });
}

describe('parseTimeSpan', () => {
  const valid: [string, number][] = [
    ['90', 90], ['0', 0], ['1.5', 1.5], ['30s', 30], ['5m', 300], ['2h', 7200], ['1h30m', 5400],
    ['1h20m30s', 4830], ['3h30m10s', 12610], ['20m5s', 1205], ['1.5m', 90], [' 10s ', 10], ['5M', 300],
  ];
  for (const [text, seconds] of valid) {
    it(`reads '${text}' as ${seconds} seconds`, () => {
      assert.equal(parseTimeSpan(text, '-t/--run-time'), seconds);
    });
  }

  const invalid = ['5x', '-5s', '-5', '', '   ', '1e309', '1e3', 'm', '5m1h', '1h 30m', '0x10', 'Infinity', 'NaN', '5 s', '1.s'];
  for (const text of invalid) {
    it(`rejects '${text}' naming the field and the accepted format`, () => {
      usageError(() => parseTimeSpan(text, '-t/--run-time'), /^-t\/--run-time: .*(time span|too long)/);
    });
  }

  it('rejects spans longer than a Node timer can hold', () => {
    assert.equal(parseTimeSpan(`${MAX_TIME_SPAN_SECONDS}`, 'x'), MAX_TIME_SPAN_SECONDS);
    usageError(() => parseTimeSpan(`${MAX_TIME_SPAN_SECONDS + 1}`, '-t'), /too long/);
    usageError(() => parseTimeSpan('1000h', '-t'), /too long/);
    usageError(() => parseTimeSpan('9'.repeat(400), '-t'), /too long/);
  });

  it('names the format in the hint for an unknown unit', () => {
    try {
      parseTimeSpan('5x', '-t/--run-time');
      assert.fail('should throw');
    } catch (error) {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /'5x'/);
      assert.match(error.hint ?? '', /1h30m/);
    }
  });
});

describe('parsePositiveInt', () => {
  it('accepts whole numbers in range', () => {
    assert.equal(parsePositiveInt('10', '-u/--users', { min: 0 }), 10);
    assert.equal(parsePositiveInt('0', '-u/--users', { min: 0 }), 0);
    assert.equal(parsePositiveInt('255', 'code', { min: 0, max: 255 }), 255);
  });

  it('rejects negatives, fractions, exponents and words, naming the field', () => {
    for (const text of ['-5', '1.5', '1e3', 'abc', '', '0x10', '9007199254740993']) {
      usageError(() => parsePositiveInt(text, '-u/--users', { min: 0 }), /^-u\/--users: expected a whole number ≥ 0/);
    }
  });

  it('defaults to a minimum of 1', () => {
    usageError(() => parsePositiveInt('0', '--expect-workers'), /≥ 1/);
  });

  it('states both bounds when there is a maximum', () => {
    usageError(() => parsePositiveInt('256', '--exit-code-on-error', { min: 0, max: 255 }), /from 0 to 255/);
  });
});

describe('parseRate', () => {
  it('accepts fractional rates above zero', () => {
    assert.equal(parseRate('0.5', '-r'), 0.5);
    assert.equal(parseRate('10', '-r'), 10);
    assert.equal(parseRate('.25', '-r'), 0.25);
  });

  it('rejects zero, negatives and non-numbers', () => {
    for (const text of ['0', '0.0', '-1', 'fast', '', 'Infinity', '1e999']) {
      usageError(() => parseRate(text, '-r/--spawn-rate'), /^-r\/--spawn-rate: expected a number greater than 0/);
    }
  });
});

describe('parseHostUrl', () => {
  it('accepts http and https URLs and drops trailing slashes', () => {
    assert.equal(parseHostUrl('http://localhost:8080'), 'http://localhost:8080');
    assert.equal(parseHostUrl('https://shop.example.com/api/'), 'https://shop.example.com/api');
  });

  it('rejects other schemes, non-URLs and URLs without a host', () => {
    usageError(() => parseHostUrl('ftp://x', '-H/--host'), /-H\/--host: 'ftp:\/\/x' uses ftp/);
    usageError(() => parseHostUrl('localhost:8080', '-H/--host'), /-H\/--host/);
    usageError(() => parseHostUrl('example.com', '-H/--host'), /not an http\(s\) URL/);
    usageError(() => parseHostUrl('http://', '-H/--host'), /-H\/--host/);
    usageError(() => parseHostUrl('not a url at all', '-H/--host'), /not a URL/);
  });

  it('suggests the http:// form for a host without a scheme (regression: -H 127.0.0.1:8080 said only "not a URL")', () => {
    usageError(() => parseHostUrl('127.0.0.1:8080', '-H/--host'), /'127\.0\.0\.1:8080' is not an http\(s\) URL; did you mean http:\/\/127\.0\.0\.1:8080\?/);
    usageError(() => parseHostUrl('localhost:3000', '-H/--host'), /did you mean http:\/\/localhost:3000\?/);
    usageError(() => parseHostUrl('shop.test/api', '-H/--host'), /did you mean http:\/\/shop\.test\/api\?/);
  });
});

describe('parsePort', () => {
  it('accepts 1 to 65535 only', () => {
    assert.equal(parsePort('8089', '-P'), 8089);
    assert.equal(parsePort('65535', '-P'), 65535);
    usageError(() => parsePort('0', '-P/--web-port'), /from 1 to 65535/);
    usageError(() => parsePort('65536', '-P/--web-port'), /from 1 to 65535/);
  });
});

describe('parseBoolean and parseChoice', () => {
  it('reads the usual spellings of true and false', () => {
    for (const t of ['true', 'TRUE', '1', 'yes', 'on']) assert.equal(parseBoolean(t, 'X'), true);
    for (const t of ['false', '0', 'no', 'Off']) assert.equal(parseBoolean(t, 'X'), false);
    usageError(() => parseBoolean('maybe', 'CICADA_HEADLESS'), /CICADA_HEADLESS: expected true or false/);
  });

  it('matches a choice case-insensitively and returns its canonical spelling', () => {
    assert.equal(parseChoice('debug', '-L', ['DEBUG', 'INFO'] as const), 'DEBUG');
    usageError(() => parseChoice('LOUD', '-L/--loglevel', ['DEBUG', 'INFO'] as const), /expected one of DEBUG, INFO/);
  });
});

describe('splitList', () => {
  it('splits comma lists, trims, and drops empty items', () => {
    assert.deepEqual(splitList(['a,b', 'c']), ['a', 'b', 'c']);
    assert.deepEqual(splitList(' a , ,b '), ['a', 'b']);
    assert.deepEqual(splitList([]), []);
  });

  it('takes another separator', () => {
    assert.deepEqual(splitList('Shopper Browser,Admin', /[\s,]+/), ['Shopper', 'Browser', 'Admin']);
  });
});
