// The users file and its password hashes: scrypt round trip, refusals of weak input and malformed files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../core/errors.ts';
import { hashPassword, parsePasswordHash, verifyPassword } from './password.ts';
import { parseUsersFile } from './users-file.ts';

describe('password hashes', () => {
  it('verifies the right password and refuses others; two hashes of one password differ (salt)', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    assert.notEqual(a, b);
    assert.match(a, /^\$scrypt\$ln=15,r=8,p=3\$/);
    const parsed = parsePasswordHash(a);
    assert.ok(typeof parsed !== 'string');
    assert.equal(await verifyPassword('correct horse battery', parsed), true);
    assert.equal(await verifyPassword('correct horse batterY', parsed), false);
    assert.equal(await verifyPassword('', parsed), false);
  });

  it('accepts long passphrases and any characters, refuses fewer than 8 characters', async () => {
    const long = 'ü'.repeat(64) + ' 🐛 spaces and "quotes"';
    const parsed = parsePasswordHash(await hashPassword(long));
    assert.ok(typeof parsed !== 'string');
    assert.equal(await verifyPassword(long, parsed), true);
    await assert.rejects(hashPassword('short'), (e: unknown) => e instanceof UsageError && /too short/.test(e.message));
  });

  it('refuses malformed hashes and parameters that would make logins slow or huge', () => {
    for (const bad of ['', 'plaintext', '$2b$10$abcdefghijklmnopqrstuv', '$scrypt$ln=25,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']) {
      assert.equal(typeof parsePasswordHash(bad), 'string', bad);
    }
  });
});

describe('users file', () => {
  const hash = '$scrypt$ln=15,r=8,p=3$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

  it('reads users with their roles', () => {
    const users = parseUsersFile(`[[users]]\nname = "ann"\nrole = "operator"\npassword_hash = "${hash}"\n\n[[users]]\nname = "bob.b@x"\nrole = "viewer"\npassword_hash = "${hash}"\n`, 'users.toml');
    assert.deepEqual([...users.values()].map((u) => [u.name, u.role]), [['ann', 'operator'], ['bob.b@x', 'viewer']]);
  });

  const bad: [string, string, RegExp][] = [
    ['no users (no default accounts)', '', /no users are defined/],
    ['bad TOML', '[[users]\nname = ', /line 1/],
    ['unknown role', `[[users]]\nname = "ann"\nrole = "root"\npassword_hash = "${hash}"`, /role must be one of viewer, operator, admin/],
    ['missing hash', '[[users]]\nname = "ann"\nrole = "admin"', /password_hash is missing/],
    ['plain password as hash', '[[users]]\nname = "ann"\nrole = "admin"\npassword_hash = "hunter22"', /cicada hash-password/],
    ['duplicate name', `[[users]]\nname = "ann"\nrole = "admin"\npassword_hash = "${hash}"\n[[users]]\nname = "ann"\nrole = "viewer"\npassword_hash = "${hash}"`, /defined twice/],
    ['unknown key', `[[users]]\nname = "ann"\nrole = "admin"\npassword = "x"\npassword_hash = "${hash}"`, /unknown key 'password'/],
    ['bad name', `[[users]]\nname = "a n"\nrole = "admin"\npassword_hash = "${hash}"`, /name must be/],
    ['top-level key', `admin = "ann"\n[[users]]\nname = "ann"\nrole = "admin"\npassword_hash = "${hash}"`, /unknown key 'admin'/],
  ];
  for (const [label, text, pattern] of bad) {
    it(`refuses ${label} with a message naming the file`, () => {
      assert.throws(() => parseUsersFile(text, '--web-users users.toml'), (e: unknown) => e instanceof UsageError && pattern.test(e.message) && e.message.startsWith('--web-users users.toml'));
    });
  }
});
