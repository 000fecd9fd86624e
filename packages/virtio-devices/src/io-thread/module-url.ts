/**
 * Where the I/O worker finds a module: worker threads run compiled
 * JavaScript, so a module named from TypeScript source (`…/src/…`, as under
 * vitest) is taken from the package's build output (`…/dist/…`).
 */

/**
 * The URL of compiled module `specifier` (written as TypeScript imports
 * are, with `.js`), relative to the calling module's `import.meta.url`. From
 * the build it is the plain resolution; from source (`…/src/….ts`) the file
 * of the same path under `dist/`, with a `.ts` extension made `.js`. Use it
 * for {@link VirtioDeviceSpec.module}: `builtModuleUrl('./device.js', import.meta.url)`
 * (the I/O thread also maps a `.ts` module URL it is given this way).
 * @throws RangeError for a TypeScript `base` with no `/src/` segment.
 */
export function builtModuleUrl(specifier: string, base: string): string {
  if (typeof specifier !== 'string' || typeof base !== 'string')
    throw new TypeError('specifier and base must be strings');
  const url = new URL(specifier, base).href;
  if (!base.endsWith('.ts')) return url;
  const at = url.lastIndexOf('/src/');
  if (at < 0)
    throw new RangeError(`${base} is TypeScript outside a src/ folder: no build output to map it to`);
  const path = url.slice(at + 5);
  return `${url.slice(0, at)}/dist/${path.endsWith('.ts') ? `${path.slice(0, -3)}.js` : path}`;
}
