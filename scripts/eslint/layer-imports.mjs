// An eslint rule enforcing DESIGN.md §2: imports point down the layers only.
import path from 'node:path';

/** What each layer of src/ may import from src/ (besides itself). */
const allowed = {
  core: [],
  stats: ['core'],
  protocols: ['core'],
  transport: ['core'],
  runners: ['core', 'stats', 'transport'],
  exporters: ['core', 'stats'],
  web: ['core', 'stats', 'exporters'],
  demo: ['core'],
  cli: ['core', 'stats', 'protocols', 'transport', 'runners', 'exporters', 'web', 'demo', 'index.ts'],
  'index.ts': ['core', 'protocols'],
};

function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const first = rel.split(path.sep)[0];
  return first;
}

export const layerImports = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between src/ layers must follow DESIGN.md §2' },
    schema: [],
    messages: { forbidden: "layer '{{from}}' may not import from '{{to}}' (DESIGN.md §2: imports point down only)" },
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.join(context.cwd, 'src');
    const from = layerOf(file, srcRoot);
    if (from === undefined || !(from in allowed)) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const to = layerOf(target, srcRoot);
      if (to === undefined || to === from) return;
      // runners may use transport *types* only; type-only imports are allowed for every listed layer.
      if (!allowed[from].includes(to)) context.report({ node, messageId: 'forbidden', data: { from, to } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};

export default { rules: { 'layer-imports': layerImports } };
