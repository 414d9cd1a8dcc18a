// `cicada hash-password`: reads a password from stdin (piped, or typed without echo) and prints its scrypt hash.
import { UsageError } from '../core/errors.ts';
import { hashPassword } from '../web/password.ts';

type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };

/** Everything piped in, minus one trailing line break (so `echo 'secret' |` and `echo -n 'secret' |` agree). */
async function readPiped(input: Input): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** One line typed at the terminal, not echoed. */
function readHidden(input: Input, output: NodeJS.WritableStream): Promise<string> {
  output.write('Password (not shown): ');
  input.setRawMode?.(true);
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return fail();
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const cleanup = (): void => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause?.();
      output.write('\n');
    };
    const done = (): void => {
      cleanup();
      resolve(text);
    };
    const fail = (): void => {
      cleanup();
      reject(new UsageError('cancelled'));
    };
    input.on('data', onData);
    input.resume?.();
  });
}

export async function hashPasswordCommand(args: string[], input: Input, output: NodeJS.WritableStream): Promise<number> {
  if (args.length > 0) {
    throw new UsageError('hash-password takes no arguments (a password on the command line would show in the shell history and `ps`)', "pipe it in: echo -n 'secret' | cicada hash-password");
  }
  const password = input.isTTY ? await readHidden(input, output) : await readPiped(input);
  if (password.length === 0) throw new UsageError('no password given on stdin', "pipe it in: echo -n 'secret' | cicada hash-password");
  output.write(`${await hashPassword(password)}\n`);
  return 0;
}
