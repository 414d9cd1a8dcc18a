// Unit tests of the cookie jar's storage and matching rules, with a fake clock and no sockets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CookieJar, parseSetCookie } from './cookie-jar.ts';

const at = (url: string): { hostname: string; path: string; secure: boolean } => {
  const u = new URL(url);
  return { hostname: u.hostname, path: u.pathname + u.search, secure: u.protocol === 'https:' };
};

describe('CookieJar', () => {
  it('parses name, value and every attribute of a Set-Cookie line', () => {
    const c = parseSetCookie('sid = abc ; Domain=.Example.com; Path=/app; Max-Age=60; Secure; HttpOnly; SameSite=Lax',
      at('https://www.example.com/app/login'), 1000);
    assert.deepEqual(c, {
      name: 'sid', value: 'abc', domain: 'example.com', path: '/app', expires: 61_000,
      secure: true, httpOnly: true, hostOnly: false,
    });
  });

  it('defaults the path to the directory of the request path and ignores invalid lines', () => {
    assert.equal(parseSetCookie('a=1', at('http://h.test/a/b/c?x=/y'), 0)?.path, '/a/b');
    assert.equal(parseSetCookie('a=1', at('http://h.test/top'), 0)?.path, '/');
    assert.equal(parseSetCookie('novalue', at('http://h.test/'), 0), undefined);
    assert.equal(parseSetCookie('=v', at('http://h.test/'), 0), undefined);
  });

  it('rejects a cookie for a domain the host may not set', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1; Domain=other.test', 'http://www.example.test/');
    jar.setCookie('b=1; Domain=ample.test', 'http://example.test/');
    assert.equal(jar.size, 0);
  });

  it('sends host-only cookies to that host only, domain cookies to subdomains too', () => {
    const jar = new CookieJar();
    jar.setCookie('host=1', 'http://example.test/');
    jar.setCookie('dom=2; Domain=example.test', 'http://example.test/');
    assert.equal(jar.headerFor(at('http://example.test/x')), 'host=1; dom=2');
    assert.equal(jar.headerFor(at('http://api.example.test/x')), 'dom=2');
    assert.equal(jar.headerFor(at('http://badexample.test/x')), undefined);
  });

  it('matches paths on segment boundaries and puts longer paths first', () => {
    const jar = new CookieJar();
    jar.setCookie('root=1; Path=/', 'http://h.test/');
    jar.setCookie('shop=2; Path=/shop', 'http://h.test/');
    assert.equal(jar.headerFor(at('http://h.test/shop/cart')), 'shop=2; root=1');
    assert.equal(jar.headerFor(at('http://h.test/shop')), 'shop=2; root=1');
    assert.equal(jar.headerFor(at('http://h.test/shopping')), 'root=1');
    assert.equal(jar.headerFor(at('http://h.test/')), 'root=1');
  });

  it('sends Secure cookies over https and to loopback hosts only', () => {
    const jar = new CookieJar();
    jar.setCookie('s=1; Secure; Domain=example.test', 'https://example.test/');
    assert.equal(jar.headerFor(at('https://example.test/')), 's=1');
    assert.equal(jar.headerFor(at('http://example.test/')), undefined);
    const local = new CookieJar();
    local.setCookie('s=1; Secure', 'http://127.0.0.1:8080/');
    assert.equal(local.headerFor(at('http://127.0.0.1:8080/')), 's=1');
  });

  it('drops cookies once Expires or Max-Age has passed', () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const jar = new CookieJar(() => now);
    jar.setCookie('short=1; Max-Age=10', 'http://h.test/');
    jar.setCookie('dated=1; Expires=Tue, 01 Jan 2030 00:01:00 GMT', 'http://h.test/');
    jar.setCookie('session=1', 'http://h.test/');
    assert.equal(jar.headerFor(at('http://h.test/')), 'short=1; dated=1; session=1');
    now += 11_000;
    assert.equal(jar.headerFor(at('http://h.test/')), 'dated=1; session=1');
    now += 60_000;
    assert.equal(jar.headerFor(at('http://h.test/')), 'session=1');
    assert.equal(jar.size, 1);
  });

  it('Max-Age wins over Expires', () => {
    const jar = new CookieJar(() => Date.parse('2030-01-01T00:00:00Z'));
    jar.setCookie('a=1; Expires=Tue, 01 Jan 2000 00:00:00 GMT; Max-Age=100', 'http://h.test/');
    assert.equal(jar.get('a'), '1');
  });

  it('replaces a cookie with the same name, domain and path, and deletes it on Max-Age=0', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1', 'http://h.test/');
    jar.setCookie('a=2', 'http://h.test/');
    assert.equal(jar.size, 1);
    assert.equal(jar.get('a'), '2');
    jar.setCookie('a=; Max-Age=0', 'http://h.test/');
    assert.equal(jar.get('a'), undefined);
    assert.equal(jar.size, 0);
  });

  it('lists and clears cookies', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1; HttpOnly', 'http://h.test/');
    assert.equal(jar.list()[0]?.httpOnly, true);
    jar.clear();
    assert.deepEqual(jar.list(), []);
  });
});
