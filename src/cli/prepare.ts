// Turns loaded cicadafiles and options into a runnable selection: classes picked, tags checked, tasks built.
import { DefinitionError, UsageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { TaskPlan } from '../core/task-plan.ts';
import type { UserClass } from '../core/user.ts';
import { didYouMean as suggest } from '../core/did-you-mean.ts';
import { parseHostUrl } from '../core/parse-values.ts';
import type { LoadedCicadafiles } from './load-cicadafile.ts';

export interface Selection {
  classes: Map<string, UserClass>;
  plan: TaskPlan;
}

export interface SelectionOptions {
  userClasses: readonly string[];
  tags: readonly string[];
  excludeTags: readonly string[];
  equalWeights: boolean;
}

function checkClassNumbers(name: string, cls: UserClass): void {
  const { weight, fixedCount } = cls;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw new DefinitionError(`${name}.weight must be a number ≥ 0, got ${String(weight)}`, 'set e.g. `static weight = 3`');
  }
  if (!Number.isInteger(fixedCount) || fixedCount < 0) {
    throw new DefinitionError(`${name}.fixedCount must be a whole number ≥ 0, got ${String(fixedCount)}`, 'set e.g. `static fixedCount = 2`');
  }
}

/** Picks the user classes to run and builds their task tables, rejecting anything that cannot run. */
export function selectClasses(loaded: LoadedCicadafiles, options: SelectionOptions, logger: Logger): Selection {
  const available = [...loaded.userClasses.keys()];
  for (const name of options.userClasses) {
    if (!loaded.userClasses.has(name)) {
      const guess = suggest(name, available);
      throw new UsageError(
        `unknown user class '${name}'`,
        `${guess ? `did you mean ${guess}? ` : ''}available: ${available.join(', ')} (see cicada --list)`,
      );
    }
  }
  const picked = options.userClasses.length > 0 ? options.userClasses : available;
  const plan = new TaskPlan({ tags: options.tags, excludeTags: options.excludeTags, equalWeights: options.equalWeights });
  const classes = new Map<string, UserClass>();
  for (const name of picked) {
    const cls = loaded.userClasses.get(name)!;
    checkClassNumbers(name, cls);
    const table = plan.table(cls);
    if (table.tasks.length === 0) {
      logger.warning(`${name} has no tasks left after tag filtering; it will not run`);
      continue;
    }
    classes.set(name, cls);
  }
  for (const t of [...options.tags, ...options.excludeTags]) {
    if (!plan.knownTags.has(t)) {
      const flag = options.tags.includes(t) ? '-T/--tags' : '-E/--exclude-tags';
      const known = [...plan.knownTags].sort();
      const guess = suggest(t, known);
      throw new UsageError(
        `unknown tag '${t}' in ${flag}: no task is tagged with it`,
        known.length > 0 ? `${guess ? `did you mean ${guess}? ` : ''}tags in use: ${known.join(', ')}` : 'no task has tags; add @tag(...) to tasks first',
      );
    }
  }
  if (classes.size === 0) {
    throw new UsageError('no task matches the tag filter, so there is nothing to run', 'check -T/--tags and -E/--exclude-tags');
  }
  return { classes, plan };
}

/** Fails fast when an HttpUser class has no host from -H nor a valid static host. */
export function checkHosts(classes: ReadonlyMap<string, UserClass>, host: string | undefined, isHttpUser: (cls: UserClass) => boolean): void {
  if (host !== undefined) return;
  for (const [name, cls] of classes) {
    if (!isHttpUser(cls)) continue;
    if (!cls.host) {
      throw new UsageError(`${name} has no host to send requests to`, `pass -H/--host http://127.0.0.1:8080, or set \`static host = '…'\` on ${name}`);
    }
    parseHostUrl(cls.host, `${name}.host`);
  }
}
