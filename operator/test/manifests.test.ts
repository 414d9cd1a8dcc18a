// What installs the operator: its plain manifests and Helm chart (operator/scripts/render-manifests.ts):
//   (d) the generated files in the tree are what the script makes now (no drift, no stale files);
//   (e) the chart, rendered by a small Go-template renderer below, equals the builders' objects.
// The objects themselves and the Dockerfiles are checked in manifests-objects.test.ts, RBAC in manifests-rbac.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';
import fc from 'fast-check';
import { Ajv } from 'ajv';
import { DEFAULT_VALUES, all, type InstallValues } from '../src/manifests.ts';
import type { JsonObject } from '../src/types.ts';
import { CHART_DIR, DEPLOY_DIR, ROOT, chartTemplates, existingGeneratedFiles, renderFiles, valuesSchema } from '../scripts/render-manifests.ts';
import { read } from './manifests-fixtures.ts';

// ---------------------------------------------------------------------------------------------------------
// (d) The generated files in the tree

describe('generated manifests and chart', () => {
  it('the files in the tree are exactly what render-manifests.ts makes now (re-run it after changing the builders)', () => {
    const files = renderFiles();
    const again = renderFiles();
    assert.deepEqual([...again], [...files], 'deterministic');
    for (const [file, text] of files) {
      assert.ok(existsSync(path.join(ROOT, file)), `${file} is missing: node --import tsx operator/scripts/render-manifests.ts`);
      assert.equal(read(file), text, `${file} is stale: node --import tsx operator/scripts/render-manifests.ts`);
    }
    assert.deepEqual(existingGeneratedFiles(), [...files.keys()].sort(), `stale files in ${DEPLOY_DIR} or ${CHART_DIR}`);
  });

  it('the plain manifests are all(DEFAULT_VALUES), in apply order across 00-, 10-, 20- files', () => {
    const files = [...renderFiles().keys()].filter((f) => f.startsWith(`${DEPLOY_DIR}/`)).sort();
    const objects = files.flatMap((f) => parseAllDocuments(read(f)).filter((d) => d.contents !== null).map((d) => d.toJS() as JsonObject));
    assert.deepEqual(objects, all(DEFAULT_VALUES));
    assert.equal(DEFAULT_VALUES.namespace, 'cicada-system');
    assert.equal(DEFAULT_VALUES.rbacScope, 'Namespace');
  });

  it('Chart.yaml: apiVersion v2, version and appVersion 0.1.0', () => {
    const chart = parseYaml(read(`${CHART_DIR}/Chart.yaml`)) as JsonObject;
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'cicada-operator');
    assert.equal(chart.version, '0.1.0');
    assert.equal(chart.appVersion, '0.1.0');
  });

  it('values.yaml holds the defaults and passes values.schema.json, which refuses a bad scope or namespace', () => {
    const values = parseYaml(read(`${CHART_DIR}/values.yaml`)) as JsonObject;
    assert.deepEqual(values, {
      image: DEFAULT_VALUES.image, imagePullPolicy: 'IfNotPresent', resources: DEFAULT_VALUES.resources, rbac: { scope: 'Namespace' },
      watchNamespaces: [], installCRD: true, createLoadTestCreatorRole: true,
    });
    const schema = JSON.parse(read(`${CHART_DIR}/values.schema.json`)) as JsonObject;
    assert.deepEqual(schema, valuesSchema());
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    assert.ok(validate(values), JSON.stringify(validate.errors));
    assert.ok(!validate({ ...values, rbac: { scope: 'Everything' } }));
    assert.ok(!validate({ ...values, watchNamespaces: ['Bad_Namespace'] }));
    assert.ok(!validate({ ...values, imagePullPolicy: 'Sometimes' }));
    assert.ok(!validate({ ...values, resources: { requests: { cpu: '1' } } }));
    assert.ok(validate({ ...values, rbac: { scope: 'Cluster' }, watchNamespaces: ['team-a'] }));
  });
});

// ---------------------------------------------------------------------------------------------------------
// (e) The chart renders what the builders make
//
// There is no helm binary here. `helm template` would (1) merge --set values over values.yaml, (2) execute each
// template with Go's text/template plus sprig, (3) split the output on `---` and parse each document. Below is a
// renderer for exactly the subset render-manifests.ts generates — {{ .Values.x.y }}, {{ .Release.Namespace }},
// $ and $variables, pipelines, parentheses, if / else if / else / end, range $v := …, {{- -}} whitespace trimming,
// and the functions eq, quote, toYaml, nindent, default, list, join — with Go's semantics for them (truthiness,
// `.` rebinding in range, `toYaml` sorting keys and dropping the final newline like Helm's). Anything else throws,
// so a template outside the subset fails this test instead of being rendered loosely. The rendered documents must
// deep-equal manifests.ts's objects for the same values: the chart cannot render anything the builders do not make.

type Token = { kind: 'text'; text: string } | { kind: 'action'; body: string };
type TNode =
  | { kind: 'text'; text: string }
  | { kind: 'out'; expr: string }
  | { kind: 'if'; branches: { cond: string; body: TNode[] }[]; otherwise: TNode[] }
  | { kind: 'range'; variable: string | undefined; expr: string; body: TNode[] };

function lex(source: string): Token[] {
  const tokens: Token[] = [];
  const action = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (const m of source.matchAll(action)) {
    let text = source.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1]) text = text.replace(/\s+$/, '');
    tokens.push({ kind: 'text', text });
    const body = m[2]!.trim();
    if (body.startsWith('/*')) throw new Error('template comments are outside the subset');
    tokens.push({ kind: 'action', body });
    trimNext = m[3] !== undefined;
    last = m.index + m[0].length;
  }
  tokens.push({ kind: 'text', text: trimNext ? source.slice(last).replace(/^\s+/, '') : source.slice(last) });
  return tokens;
}

function parseTemplate(tokens: Token[]): TNode[] {
  let i = 0;
  function block(): { nodes: TNode[]; stop: string | undefined } {
    const nodes: TNode[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.kind === 'text') {
        if (t.text) nodes.push({ kind: 'text', text: t.text });
        continue;
      }
      const body = t.body;
      if (body === 'end' || body === 'else' || body.startsWith('else if ')) return { nodes, stop: body };
      if (body.startsWith('if ')) {
        const node: TNode & { kind: 'if' } = { kind: 'if', branches: [], otherwise: [] };
        let cond = body.slice(3);
        for (;;) {
          const inner = block();
          node.branches.push({ cond, body: inner.nodes });
          if (inner.stop === 'end') break;
          if (inner.stop === 'else') {
            const rest = block();
            if (rest.stop !== 'end') throw new Error('else without end');
            node.otherwise = rest.nodes;
            break;
          }
          if (inner.stop?.startsWith('else if ')) {
            cond = inner.stop.slice('else if '.length);
            continue;
          }
          throw new Error('if without end');
        }
        nodes.push(node);
      } else if (body.startsWith('range ')) {
        const header = body.slice('range '.length).trim();
        const assign = header.indexOf(':=');
        const variable = assign >= 0 ? header.slice(0, assign).trim() : undefined;
        if (variable !== undefined && !/^\$\w+$/.test(variable)) throw new Error(`bad range: ${body}`);
        const inner = block();
        if (inner.stop !== 'end') throw new Error('range without end (range/else is outside the subset)');
        nodes.push({ kind: 'range', variable, expr: assign >= 0 ? header.slice(assign + 2).trim() : header, body: inner.nodes });
      } else if (/^(define|template|include|with|block|tpl)\b/.test(body) || body.includes(':=')) {
        throw new Error(`outside the subset: {{ ${body} }}`);
      } else {
        nodes.push({ kind: 'out', expr: body });
      }
    }
    return { nodes, stop: undefined };
  }
  const { nodes, stop } = block();
  if (stop !== undefined) throw new Error(`unexpected {{ ${stop} }}`);
  return nodes;
}

interface Scope { dot: unknown; root: unknown; vars: Map<string, unknown> }

/** Go template truthiness: false, 0, nil, and empty strings, slices and maps are false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** A string, number or boolean as Go prints it; anything else is outside what these templates print. */
function scalar(v: unknown, where: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${where}: ${JSON.stringify(v)} is not a scalar`);
}

const FUNCTIONS: Record<string, (...args: unknown[]) => unknown> = {
  eq: (a, b) => a === b,
  // sprig quote: %q of each non-nil argument; the same as JSON for the printable strings the chart takes.
  quote: (...xs) => xs.filter((x) => x !== undefined && x !== null).map((x) => JSON.stringify(scalar(x, 'quote'))).join(' '),
  // Helm's toYaml: sigs.k8s.io/yaml (keys sorted), final newline dropped.
  toYaml: (v) => stringify(v, { sortMapEntries: true, version: '1.1' }).replace(/\n$/, ''),
  nindent: (n, s) => `\n${scalar(s, 'nindent').split('\n').map((line) => ' '.repeat(Number(n)) + line).join('\n')}`,
  default: (fallback, given) => (truthy(given) ? given : fallback),
  list: (...xs) => xs,
  join: (sep, xs) => {
    if (!Array.isArray(xs)) throw new Error('join of a non-list');
    return xs.map((x) => scalar(x, 'join')).join(scalar(sep, 'join'));
  },
};

/** Splits an expression into tokens: "strings", ( ) |, .Field.paths, $var.paths, numbers, identifiers. */
function scan(expr: string): string[] {
  const tokens: string[] = [];
  const word = /[\w.$-]/;
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      i++;
    } else if (ch === '(' || ch === ')' || ch === '|') {
      tokens.push(ch);
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== '"') j += expr[j] === '\\' ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string in ${expr}`);
      tokens.push(expr.slice(i, j + 1));
      i = j + 1;
    } else if (word.test(ch)) {
      let j = i;
      while (j < expr.length && word.test(expr[j]!)) j++;
      const token = expr.slice(i, j);
      // .Field.path, $.path, $var.path, an identifier, or a number.
      const [head, ...rest] = token.split('.');
      const readable = token === '.' || /^-?\d+$/.test(token) || (/^\$?\w*$/.test(head!) && rest.every((part) => /^\w+$/.test(part)));
      if (!readable) throw new Error(`cannot read ${token} in ${expr}`);
      tokens.push(token);
      i = j;
    } else {
      throw new Error(`cannot read ${ch} in ${expr}`);
    }
  }
  return tokens;
}

function evaluate(expr: string, scope: Scope): unknown {
  const tokens = scan(expr);
  let i = 0;
  const field = (base: unknown, names: string[], whole: string): unknown => names.reduce<unknown>((v, name) => {
    if (typeof v !== 'object' || v === null) throw new Error(`nil pointer evaluating ${whole}`);
    return (v as Record<string, unknown>)[name];
  }, base);
  function operand(): { value: unknown; fn?: string } {
    const t = tokens[i++];
    if (t === undefined) throw new Error(`unexpected end of ${expr}`);
    if (t === '(') {
      const v = pipeline();
      if (tokens[i++] !== ')') throw new Error(`missing ) in ${expr}`);
      return { value: v };
    }
    if (t.startsWith('"')) return { value: JSON.parse(t) };
    if (/^-?\d+$/.test(t)) return { value: Number(t) };
    if (t === '.') return { value: scope.dot };
    if (t.startsWith('.')) return { value: field(scope.dot, t.slice(1).split('.'), t) };
    if (t.startsWith('$')) {
      const [name, ...rest] = t.split('.');
      const base = name === '$' ? scope.root : scope.vars.get(name!);
      if (name !== '$' && !scope.vars.has(name!)) throw new Error(`undefined variable ${name}`);
      return { value: field(base, rest, t) };
    }
    if (t === 'true' || t === 'false') return { value: t === 'true' };
    if (t === 'nil') return { value: null };
    if (!(t in FUNCTIONS)) throw new Error(`function "${t}" is outside the subset`);
    return { value: undefined, fn: t };
  }
  function command(piped: unknown[]): unknown {
    const parts: { value: unknown; fn?: string }[] = [];
    while (i < tokens.length && tokens[i] !== '|' && tokens[i] !== ')') parts.push(operand());
    const [head, ...args] = parts;
    if (!head) throw new Error(`empty command in ${expr}`);
    if (head.fn) return FUNCTIONS[head.fn]!(...args.map((a) => a.value), ...piped);
    if (args.length > 0 || piped.length > 0) throw new Error(`${expr}: only a function takes arguments`);
    return head.value;
  }
  function pipeline(): unknown {
    let value = command([]);
    while (tokens[i] === '|') {
      i++;
      value = command([value]);
    }
    return value;
  }
  const result = pipeline();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${expr}`);
  return result;
}

function execute(nodes: TNode[], scope: Scope): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'out') {
      const v = evaluate(node.expr, scope);
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out += String(v);
      else throw new Error(`{{ ${node.expr} }} printed ${JSON.stringify(v)}: only scalars are printed by these templates`);
    } else if (node.kind === 'if') {
      const branch = node.branches.find((b) => truthy(evaluate(b.cond, scope)));
      out += execute(branch ? branch.body : node.otherwise, scope);
    } else {
      const items = evaluate(node.expr, scope);
      if (!Array.isArray(items)) throw new Error(`range over a non-list: ${node.expr}`);
      for (const item of items) {
        const vars = new Map(scope.vars);
        if (node.variable) vars.set(node.variable, item);
        out += execute(node.body, { dot: item, root: scope.root, vars });
      }
    }
  }
  return out;
}

export function renderTemplate(source: string, root: JsonObject): string {
  return execute(parseTemplate(lex(source)), { dot: root, root, vars: new Map() });
}

type ChartValues = { image: string; imagePullPolicy: InstallValues['imagePullPolicy']; resources: InstallValues['resources']; rbac: { scope: InstallValues['rbacScope'] }; watchNamespaces: string[]; installCRD: boolean; createLoadTestCreatorRole: boolean };

/** `helm template RELEASE charts/cicada-operator -n NAMESPACE --set …`: values.yaml merged with the overrides, each template in apply order. */
function helmTemplate(overrides: Partial<ChartValues>, releaseNamespace: string): JsonObject[] {
  const values = { ...(parseYaml(read(`${CHART_DIR}/values.yaml`)) as ChartValues), ...overrides };
  const root = { Values: values, Release: { Name: 'cicada-operator', Namespace: releaseNamespace, Service: 'Helm' }, Chart: { Name: 'cicada-operator' } };
  return chartTemplates().map(([name]) => name).flatMap((name) => {
    const text = renderTemplate(read(`${CHART_DIR}/templates/${name}`), root);
    return parseAllDocuments(text).filter((d) => d.contents !== null).map((d) => {
      assert.deepEqual(d.errors, [], `${name}: ${text}`);
      return d.toJS() as JsonObject;
    });
  });
}

/** The builders' values for a release: the chart values plus the release namespace; Helm does not make the Namespace. */
function installValuesOf(overrides: Partial<ChartValues>, releaseNamespace: string): InstallValues {
  const v = { ...(parseYaml(read(`${CHART_DIR}/values.yaml`)) as ChartValues), ...overrides };
  return {
    namespace: releaseNamespace, image: v.image, imagePullPolicy: v.imagePullPolicy, resources: v.resources, rbacScope: v.rbac.scope,
    watchNamespaces: v.watchNamespaces, installCRD: v.installCRD, createLoadTestCreatorRole: v.createLoadTestCreatorRole, createNamespace: false,
  };
}

describe('the Helm chart renders exactly what the builders make (in place of helm template)', () => {
  it('the renderer follows Go template rules: trimming, if/else if/else, range with $, default, join, toYaml | nindent', () => {
    const root = { Values: { a: { b: 'x' }, list: ['p', 'q'], empty: [], res: { z: '1', a: { c: '2Mi' } } }, Release: { Namespace: 'ns' } };
    assert.equal(renderTemplate('k: {{ .Values.a.b | quote }}\n{{- if eq .Values.a.b "y" }}\nno{{- else if .Values.list }}\nyes{{- else }}\nno{{- end }}\n', root), 'k: "x"\nyes\n');
    assert.equal(renderTemplate('{{- range $n := .Values.list }}\n- {{ $n }}/{{ . }}/{{ $.Release.Namespace }}{{- end }}', root), '\n- p/p/ns\n- q/q/ns');
    assert.equal(renderTemplate('{{ .Values.empty | default (list .Release.Namespace) | join "," }}', root), 'ns');
    assert.equal(renderTemplate('r:\n  {{- toYaml .Values.res | nindent 2 }}', root), 'r:\n  a:\n    c: 2Mi\n  z: "1"');
    assert.equal(renderTemplate('a  {{- " b " -}}  c', root), 'a b c');
    assert.throws(() => renderTemplate('{{ include "x" . }}', root), /outside the subset/);
    assert.throws(() => renderTemplate('{{ .Values.nope.deeper }}', root), /nil pointer/);
    assert.throws(() => renderTemplate('{{ .Values.a }}', root), /only scalars/);
  });

  it('default values, release namespace cicada-system: equals all() (Namespace mode)', () => {
    assert.deepEqual(helmTemplate({}, 'cicada-system'), all(installValuesOf({}, 'cicada-system')));
    assert.deepEqual(helmTemplate({}, 'cicada-system'), all({ ...DEFAULT_VALUES, createNamespace: false }));
  });

  it('rbac.scope=Cluster: equals all() (ClusterRole mode)', () => {
    const overrides: Partial<ChartValues> = { rbac: { scope: 'Cluster' } };
    const rendered = helmTemplate(overrides, 'cicada-system');
    assert.deepEqual(rendered, all(installValuesOf(overrides, 'cicada-system')));
    assert.ok(rendered.some((o) => o.kind === 'ClusterRoleBinding'));
  });

  it('property: any values the schema admits render to all() for them', () => {
    const dnsLabel = fc.stringMatching(/^[a-z0-9-]{1,14}$/).filter((n) => !n.startsWith('-') && !n.endsWith('-'));
    const quantity = fc.constantFrom('1', '0.5', '100m', '2', '64Mi', '1Gi', '512M');
    const overrides = fc.record({
      image: fc.tuple(fc.stringMatching(/^[a-z0-9./-]{1,30}$/), fc.constantFrom('', ':0.1.0', ':latest', `@sha256:${'a'.repeat(64)}`)).map(([repo, tag]) => `r/${repo}${tag}`),
      imagePullPolicy: fc.constantFrom('Always', 'IfNotPresent', 'Never'),
      resources: fc.record({ requests: fc.record({ cpu: quantity, memory: quantity }), limits: fc.record({ cpu: quantity, memory: quantity }) }),
      rbac: fc.record({ scope: fc.constantFrom('Namespace', 'Cluster') }),
      watchNamespaces: fc.uniqueArray(dnsLabel, { maxLength: 3 }),
      installCRD: fc.boolean(),
      createLoadTestCreatorRole: fc.boolean(),
    }) as fc.Arbitrary<ChartValues>;
    const validate = new Ajv({ strict: false }).compile(valuesSchema());
    fc.assert(fc.property(overrides, dnsLabel, (o, releaseNamespace) => {
      assert.ok(validate(o), JSON.stringify(validate.errors));
      assert.deepEqual(helmTemplate(o, releaseNamespace), all(installValuesOf(o, releaseNamespace)));
    }), { numRuns: 60 });
  });

  it('NOTES.txt renders too', () => {
    const text = renderTemplate(read(`${CHART_DIR}/templates/NOTES.txt`), { Values: { rbac: { scope: 'Namespace' } }, Release: { Namespace: 'cicada-system' } });
    assert.match(text, /namespace cicada-system \(Namespace RBAC mode\)/);
  });
});
