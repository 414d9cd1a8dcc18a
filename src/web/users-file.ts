// The `--web-users` file: TOML `[[users]]` tables with a name, a role and a scrypt password hash.
import { readFile } from 'node:fs/promises';
import { parse, TomlError } from 'smol-toml';
import { UsageError } from '../core/errors.ts';
import { parsePasswordHash, type PasswordHash } from './password.ts';
import { isRole, ROLES, type Role } from './roles.ts';

export interface WebUser {
  name: string;
  role: Role;
  passwordHash: PasswordHash;
}

const NAME = /^[\p{L}\p{N}._@-]{1,64}$/u;
const USER_KEYS = new Set(['name', 'role', 'password_hash']);
const FORMAT_HINT = 'each user is a [[users]] table with name, role (viewer, operator or admin) and password_hash (from `cicada hash-password`)';

/** Parses the users file's text; `display` names the file in errors. Refuses an empty list (no default accounts). */
export function parseUsersFile(text: string, display: string): Map<string, WebUser> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : '';
    throw new UsageError(`${display}${where}: not valid TOML: ${(error as Error).message.split('\n')[0] ?? ''}`, FORMAT_HINT);
  }
  const unknown = Object.keys(doc).filter((k) => k !== 'users');
  if (unknown.length > 0) throw new UsageError(`${display}: unknown key ${unknown.map((k) => `'${k}'`).join(', ')}`, FORMAT_HINT);
  const list = doc.users;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`${display}: no users are defined`, FORMAT_HINT);
  const users = new Map<string, WebUser>();
  list.forEach((entry: unknown, i) => {
    const where = `${display}: user ${i + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`${where} is not a table`, FORMAT_HINT);
    const record = entry as Record<string, unknown>;
    const extra = Object.keys(record).filter((k) => !USER_KEYS.has(k));
    if (extra.length > 0) throw new UsageError(`${where}: unknown key ${extra.map((k) => `'${k}'`).join(', ')}`, FORMAT_HINT);
    const { name, role, password_hash: hash } = record;
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new UsageError(`${where}: name must be 1–64 letters, digits or . _ @ -`, FORMAT_HINT);
    }
    if (users.has(name)) throw new UsageError(`${display}: user '${name}' is defined twice`, 'keep one [[users]] table per name');
    if (!isRole(role)) throw new UsageError(`${where} ('${name}'): role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`, FORMAT_HINT);
    if (typeof hash !== 'string') throw new UsageError(`${where} ('${name}'): password_hash is missing`, FORMAT_HINT);
    const parsed = parsePasswordHash(hash);
    if (typeof parsed === 'string') throw new UsageError(`${where} ('${name}'): password_hash ${parsed}`);
    users.set(name, { name, role, passwordHash: parsed });
  });
  return users;
}

/** Reads and parses the users file, with a clear error when it cannot be read. */
export async function loadUsersFile(file: string): Promise<Map<string, WebUser>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--web-users ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'give the path of a readable TOML users file');
  }
  return parseUsersFile(text, `--web-users ${file}`);
}
