// Loads cicadafiles: compiles TS/JS with esbuild on the fly and finds the User and LoadShape classes.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { CicadafileError } from '../core/errors.ts';
import { isLoadShapeClass, type LoadShapeClass } from '../core/load-shape.ts';
import { isAbstractUserClass, isUserClass, type UserClass } from '../core/user.ts';

const EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs']);
/** The running Cicada's public API: `import … from 'cicada'` always resolves here. */
const API_ENTRY = fileURLToPath(new URL('../index.ts', import.meta.url));

export interface LoadedCicadafiles {
  files: string[];
  /** Runnable user classes by class name, in file order. */
  userClasses: Map<string, UserClass>;
  /** The LoadShape class, when a file exports one. */
  shapeClass: LoadShapeClass | undefined;
  /** Hex SHA-256 of the files' compiled code (the master compares it with its workers'). */
  contentHash: string;
  /** `export const scenarios = { name: {...} }` of the files, merged (raw: checked by the executors' readers). */
  scenarios: Record<string, unknown>;
  /** `export const thresholds` of each file that has one (raw: checked by cli/thresholds.ts), with the file's name. */
  thresholds: { file: string; raw: unknown }[];
}

/** Expands `-f` values (files, comma lists, folders) into cicadafile paths. */
export async function resolveCicadafiles(specs: readonly string[], cwd: string): Promise<string[]> {
  const files: string[] = [];
  for (const spec of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const full = path.resolve(cwd, spec);
    const info = await stat(full).catch(() => undefined);
    if (!info) {
      const where = path.isAbsolute(spec) ? 'the path is absolute' : `looked in ${cwd}`;
      throw new CicadafileError(`cicadafile not found: ${spec}`, `check the path, or pass -f path/to/cicadafile.ts (${where})`);
    }
    if (info.isDirectory()) {
      const found = await listFolder(full);
      if (found.length === 0) throw new CicadafileError(`no cicadafiles (.ts, .mts, .js, .mjs) in folder ${spec}`);
      files.push(...found);
    } else {
      if (!EXTENSIONS.has(path.extname(full))) {
        throw new CicadafileError(`${spec} is not a .ts, .mts, .js or .mjs file`, 'cicadafiles are TypeScript or JavaScript modules');
      }
      files.push(full);
    }
  }
  return [...new Set(files)];
}

async function listFolder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && EXTENSIONS.has(path.extname(e.name)) && !e.name.startsWith('_') && !/\.(test|spec|d)\.[mc]?[tj]s$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((p) => !p.split(path.sep).includes('node_modules'))
    .sort();
}

/**
 * Resolves bare imports from the cicadafile's own folder and keeps them external (so npm packages
 * load as real modules), and maps 'cicada' to the running Cicada.
 */
function importPlugin(): esbuild.Plugin {
  return {
    name: 'cicada-imports',
    setup(build) {
      // The bundle lives in a temporary folder: `import.meta.url`, `.dirname` and `.filename` must name each
      // module's real source, so `new URL('./users.csv', import.meta.url)` finds the file beside it.
      build.onLoad({ filter: /\.(m?[jt]s|[jt]sx)$/ }, async (args) => {
        if (args.path.split(path.sep).includes('node_modules')) return undefined;
        const { readFile } = await import('node:fs/promises');
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const contents = await withRealImportMeta(source, args.path);
        // Untransformable (a syntax error): let the bundler load the file itself and report where.
        if (contents === undefined) return undefined;
        return { contents, loader: 'js', resolveDir: path.dirname(args.path) };
      });
      build.onResolve({ filter: /^cicada$/ }, () => ({ path: API_ENTRY, external: true }));
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'inner' || args.path.startsWith('node:')) return undefined;
        const result = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
        if (result.errors.length > 0) return { errors: result.errors };
        return { path: result.path, external: true };
      });
    },
  };
}

function loaderOf(file: string): esbuild.Loader {
  const ext = path.extname(file);
  if (ext === '.tsx' || ext === '.jsx') return ext.slice(1) as esbuild.Loader;
  return ext === '.ts' || ext === '.mts' ? 'ts' : 'js';
}

/** Standard (TC39) decorators whatever the user's tsconfig says: @task relies on them. */
const TSCONFIG = { compilerOptions: { experimentalDecorators: false, useDefineForClassFields: true } };

/**
 * `source` compiled to JS with `import.meta.url`, `.dirname` and `.filename` replaced by the file's own values.
 * esbuild's `define` rewrites only real expressions (not strings or comments), and the inline source map it
 * writes is chained by the bundler, so stack traces keep the original lines and columns.
 */
async function withRealImportMeta(source: string, file: string): Promise<string | undefined> {
  try {
    const result = await esbuild.transform(source, {
      loader: loaderOf(file),
      sourcefile: file,
      sourcemap: 'inline',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      tsconfigRaw: TSCONFIG,
      define: {
        'import.meta.url': JSON.stringify(pathToFileURL(file).href),
        'import.meta.dirname': JSON.stringify(path.dirname(file)),
        'import.meta.filename': JSON.stringify(file),
      },
    });
    return result.code;
  } catch {
    return undefined;
  }
}

/** `file:line` of the cicadafile's own frame in a (source-mapped) stack, e.g. `cicadafile.ts:3`. */
function sourceLine(error: unknown, file: string, cwd: string): string | undefined {
  const stack = error instanceof Error ? error.stack ?? '' : '';
  for (const candidate of [file, pathToFileURL(file).href]) {
    const at = stack.indexOf(`${candidate}:`);
    if (at < 0) continue;
    const line = /^:(\d+)/.exec(stack.slice(at + candidate.length))?.[1];
    if (line !== undefined) return `${path.relative(cwd, file) || file}:${line}`;
  }
  return undefined;
}

function describeBuildError(error: unknown, file: string): CicadafileError {
  const failure = error as { errors?: esbuild.Message[] };
  const first = failure.errors?.[0];
  if (first) {
    const where = first.location ? `${path.relative(process.cwd(), first.location.file) || first.location.file}:${first.location.line}:${first.location.column + 1}` : file;
    const more = failure.errors!.length > 1 ? ` (and ${failure.errors!.length - 1} more errors)` : '';
    const hint = /Could not resolve "([^"]+)"/.exec(first.text)?.[1];
    return new CicadafileError(
      `${where}: ${first.text}${more}`,
      hint && !hint.startsWith('.') ? `install it next to the cicadafile: npm install ${hint}` : 'fix the file and run again',
    );
  }
  return new CicadafileError(`could not compile ${file}: ${String(error)}`, undefined, error);
}

/**
 * A fingerprint of what a cicadafile is made of: each bundled source's path relative to the cicadafile's folder
 * and its contents. Not the compiled code: that embeds absolute paths, and a worker whose copy of the same files
 * sits in another folder (another machine, another pod) must match its master.
 */
async function sourceFingerprint(file: string, inputs: readonly string[]): Promise<string> {
  const { createHash } = await import('node:crypto');
  const { readFile } = await import('node:fs/promises');
  const base = path.dirname(file);
  const parts: string[] = [];
  for (const input of inputs) {
    const full = path.resolve(input);
    const content = await readFile(full).catch(() => undefined);
    // Virtual inputs (e.g. the 'cicada' import mapped by the plugin) count by name.
    parts.push(content ? `${path.relative(base, full)}\0${createHash('sha256').update(content).digest('hex')}` : `virtual\0${input}`);
  }
  parts.sort();
  return parts.join('\n');
}

async function compile(file: string, outDir: string, index: number): Promise<{ out: string; code: string; fingerprint: string }> {
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  const out = path.join(outDir, `${index}-${path.basename(file).replace(/\.[^.]+$/, '')}.mjs`);
  try {
    result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      metafile: true,
      // Keep the paths as given: Kubernetes mounts ConfigMap files as links into a timestamped folder
      // (`..data/x.ts` → `..2026_…/x.ts`); following them would break `../lib` imports and give every pod
      // its own fingerprint.
      preserveSymlinks: true,
      // Where the code will be written: the source map's paths are relative to it, so stack traces name the real file.
      outfile: out,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [importPlugin()],
      tsconfigRaw: TSCONFIG,
    });
  } catch (error) {
    throw describeBuildError(error, file);
  }
  const code = result.outputFiles.find((f) => f.path === out)?.text ?? result.outputFiles[0]?.text ?? '';
  await writeFile(out, code);
  return { out, code, fingerprint: await sourceFingerprint(file, Object.keys(result.metafile.inputs)) };
}

/** Compiles and imports every cicadafile, and collects their exported User and LoadShape classes. */
export async function loadCicadafiles(specs: readonly string[], cwd: string): Promise<LoadedCicadafiles> {
  const files = await resolveCicadafiles(specs, cwd);
  const outDir = await mkdtemp(path.join(tmpdir(), 'cicada-'));
  const userClasses = new Map<string, UserClass>();
  const origin = new Map<string, string>();
  const shapes: { cls: LoadShapeClass; file: string }[] = [];
  const scenarios: Record<string, unknown> = {};
  const scenarioOrigin = new Map<string, string>();
  const thresholds: { file: string; raw: unknown }[] = [];
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  try {
    for (const [i, file] of files.entries()) {
      const { out, fingerprint } = await compile(file, outDir, i);
      hash.update(fingerprint);
      let mod: Record<string, unknown>;
      try {
        mod = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
      } catch (error) {
        const e = error as Error;
        const where = sourceLine(error, file, cwd) ?? (path.relative(cwd, file) || file);
        const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        throw new CicadafileError(`${where}: threw while loading: ${what}`, 'fix the error at the top level of the file', error);
      }
      if (mod.scenarios !== undefined) {
        const exported = mod.scenarios;
        const name = path.relative(cwd, file) || file;
        if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) {
          throw new CicadafileError(`${name}: \`export const scenarios\` must be an object of named scenarios`, "e.g. export const scenarios = { browse: { executor: 'constant-arrival-rate', rate: 50, duration: '1m' } }");
        }
        for (const [key, definition] of Object.entries(exported)) {
          if (Object.hasOwn(scenarios, key)) throw new CicadafileError(`two scenarios are named '${key}' (${scenarioOrigin.get(key) ?? '?'} and ${name})`, 'give each scenario its own name');
          scenarios[key] = definition;
          scenarioOrigin.set(key, name);
        }
      }
      if (mod.thresholds !== undefined) thresholds.push({ file: path.relative(cwd, file) || file, raw: mod.thresholds });
      for (const value of Object.values(mod)) {
        if (isUserClass(value) && !isAbstractUserClass(value)) {
          const previous = origin.get(value.name);
          if (previous !== undefined && userClasses.get(value.name) !== value) {
            throw new CicadafileError(`two user classes are named ${value.name} (${previous} and ${file})`, 'rename one of them');
          }
          userClasses.set(value.name, value);
          origin.set(value.name, file);
        } else if (isLoadShapeClass(value) && !(Object.hasOwn(value, 'abstract') && value.abstract)) {
          if (!shapes.some((s) => s.cls === value)) shapes.push({ cls: value, file });
        }
      }
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  if (shapes.length > 1) {
    throw new CicadafileError(`more than one LoadShape exported: ${shapes.map((s) => s.cls.name).join(', ')}`, 'export only one LoadShape class');
  }
  if (userClasses.size === 0) {
    throw new CicadafileError(
      `no User class found in ${files.map((f) => path.relative(cwd, f) || f).join(', ')}`,
      'export a class that extends User or HttpUser, e.g. `export class Shopper extends HttpUser { … }` (classes with `static abstract = true` are skipped)',
    );
  }
  return { files, userClasses, shapeClass: shapes[0]?.cls, contentHash: hash.digest('hex'), scenarios, thresholds };
}
