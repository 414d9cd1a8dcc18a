// Types of the layer import rule plug-in, for the test that runs it.
import type { ESLint, Rule } from 'eslint';

export declare const layerImports: Rule.RuleModule;
declare const plugin: ESLint.Plugin;
export default plugin;
