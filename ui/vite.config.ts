// Build: `npx vite build --config ui/vite.config.ts` (from the repo root).
// The server serves dist/ui under a strict CSP, so the output must be plain files:
// index.html + assets/*.js + assets/*.css, no inline scripts or styles.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  // Preact's automatic JSX runtime, compiled by Vite's built-in oxc transform
  // (no @preact/preset-vite: one plugin fewer, and we need no HMR/devtools).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Never turn assets into data: URIs or inline chunks.
    assetsInlineLimit: 0,
    // Modern browsers only: the polyfill is dead weight.
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
});
