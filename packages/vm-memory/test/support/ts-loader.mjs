// Loader hooks for worker threads in tests: vitest transforms test files, but
// a Worker loads its script with plain Node, so this transpiles the package's
// .ts sources (type-only, one file at a time) and maps './x.js' to './x.ts'.
import { readFile } from 'node:fs/promises';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

if (!globalThis.__vmMemoryTsLoader) {
  globalThis.__vmMemoryTsLoader = true;
  register(import.meta.url, import.meta.url);
}

export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL?.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    try {
      return await nextResolve(specifier.replace(/\.js$/, '.ts'), context);
    } catch {
      // not a TypeScript source: resolve as written
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.endsWith('.ts')) return nextLoad(url, context);
  const fileName = fileURLToPath(url);
  const output = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  });
  return { format: 'module', source: output.outputText, shortCircuit: true };
}
