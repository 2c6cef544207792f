// Bundles tsbox's programs (src/boot/programs.ts): the CLI, the container's init, the
// exec-init and a detached container's monitor, one CommonJS file each, plus dist/start.cjs that loads them with V8's code
// cache. Node 20 loads an ES module graph of many small files slowly (zod's ESM build
// alone costs ~30 ms) and has no code cache for ES modules; one CommonJS file per program
// and a cache written here cut each start by tens of milliseconds. koffi (a native addon)
// and pino (loaded lazily, only when logging) stay external. tsc's per-file output in
// dist/ remains the library API.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { build } from 'esbuild';

/**
 * Node built-in modules that a warm `tsbox run` never calls but that the modules on its path
 * import at their top (the image cache's hashing, decompression, the extraction worker):
 * each import gets a stand-in that loads the real module on first use. Node loads and
 * evaluates a built-in (crypto alone is 15 internal modules) when it is required, at every
 * start. The imports stay external, renamed `tsbox-lazy:node:x`, so esbuild emits a plain
 * `require()` for them and reads a named import at its use (`(0, import_x.name)(...)`): the
 * banner's require answers those names with a Proxy whose traps load the module. A
 * namespace import (`import * as`) lists the keys at once, and so loads it then, as before.
 */
const LAZY_BUILTINS = ['node:crypto', 'node:zlib', 'node:worker_threads'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: `tsbox-lazy:${args.path}`, external: true }));
  },
};
const lazyRequire = `require = ((real) => (id) => {
  if (!id.startsWith('tsbox-lazy:')) return real(id);
  let mod;
  const load = () => (mod ??= real(id.slice(11)));
  return new Proxy({}, {
    get: (_, key) => load()[key],
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
})(require);`;

/**
 * zod 3 binds 25 methods (parse, optional, array...) to every schema object in its
 * constructor, so that `schema.parse` works detached. The CLI builds ~600 schema objects at
 * each start (its modules' schemas at their top), that is 15,000 bound functions made
 * for nothing (~3 ms, and garbage). Here each is bound on first use instead, per object,
 * with the same result: a getter on ZodType.prototype binds the prototype's method to the
 * object it is read from and keeps it as the object's own property. None of the 25 is
 * overridden by a subclass (checked below), so the bound method is the one zod binds.
 */
const ZOD_BOUND = ['parse', 'safeParse', 'parseAsync', 'safeParseAsync', 'spa', 'refine', 'refinement', 'superRefine', 'optional', 'nullable', 'nullish', 'array', 'promise', 'or', 'and', 'transform', 'brand', 'default', 'catch', 'describe', 'pipe', 'readonly', 'isNullable', 'isOptional'];
const zodLazyBind = {
  name: 'zod-lazy-bind',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v3[\\/]types\.js$/ }, async (args) => {
      let source = await readFile(args.path, 'utf8');
      const binds = ['        this.spa = this.safeParseAsync;\n', ...ZOD_BOUND.map((n) => `        this.${n} = this.${n}.bind(this);\n`)];
      for (const line of binds) {
        if (!source.includes(line)) throw new Error(`zod-lazy-bind: zod's ZodType constructor changed (no "${line.trim()}"): update scripts/bundle.mjs`);
        source = source.replace(line, '');
      }
      for (const n of ZOD_BOUND) {
        const defined = source.match(new RegExp(`^    (async )?${n}\\(`, 'gm'))?.length ?? 0;
        if (n !== 'spa' && defined !== 1) throw new Error(`zod-lazy-bind: ${n} is defined ${defined} times in zod's types.js: update scripts/bundle.mjs`);
      }
      source += `
for (const name of ${JSON.stringify(ZOD_BOUND)}) {
  const method = ZodType.prototype[name === 'spa' ? 'safeParseAsync' : name];
  const own = (object, value) => Object.defineProperty(object, name, { value, writable: true, configurable: true, enumerable: true });
  Object.defineProperty(ZodType.prototype, name, {
    configurable: true,
    get() { const bound = method.bind(this); if (Object.isExtensible(this)) own(this, bound); return bound; },
    set(value) { own(this, value); },
  });
}
`;
      return { contents: source, loader: 'js' };
    });
  },
};

/**
 * koffi's own loader (its index.cjs, then @koromix/koffi-<platform>-<arch>/index.js) reads
 * node's ELF headers twice to tell glibc from musl, probes candidate paths and compiles two
 * files without a code cache: ~8 ms before the native module's own ~1 ms, in the CLI and
 * again in every container's init. The build asks koffi which native module it loads here
 * and the bundles load that file directly, after checking its version; on any mismatch (a
 * reinstalled node_modules, another libc) they fall back to require('koffi').
 * What koffi's loader adds on top of the native module are deprecation wrappers of APIs
 * tsbox does not use (lib.cdecl, koffi.resolve...).
 */
const koffiNative = JSON.parse(execFileSync(process.execPath, ['-e', `
  const koffi = require('koffi');
  const file = Object.keys(require.cache).find((f) => f.endsWith('.node') && require.cache[f].exports.version === koffi.version);
  process.stdout.write(JSON.stringify({ file, version: koffi.version }));
`], { encoding: 'utf8' }));
const koffiDirect = {
  name: 'koffi-direct',
  setup(b) {
    b.onResolve({ filter: /^koffi$/ }, (args) => (args.namespace === 'koffi-direct' ? { path: 'koffi', external: true } : { path: 'koffi', namespace: 'koffi-direct' }));
    b.onLoad({ filter: /.*/, namespace: 'koffi-direct' }, () => ({
      loader: 'js',
      contents: `let native = null;
try {
  const m = require(require('node:path').join(__dirname, ${JSON.stringify(relative('dist', koffiNative.file))}));
  if (m.version === ${JSON.stringify(koffiNative.version)} && typeof m.load === 'function') native = m;
} catch {
  // koffi's own loader below finds the right one, or says why there is none
}
module.exports = native ?? require('koffi');`,
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi', 'pino', 'pino-pretty'],
  // The sources are ES modules; in a CommonJS bundle import.meta.url is the bundle's own URL.
  define: { 'import.meta.url': '__tsboxBundleUrl' },
  banner: { js: "var __tsboxBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};

const programs = {
  tsbox: 'src/cli/main.ts',
  init: 'src/init/main.ts',
  // tsbox exec's process: its own file, so neither program loads the other's code.
  'exec-init': 'src/init/exec-main.ts',
  // A detached container's monitor: resident for the container's life, so it loads no CLI.
  monitor: 'src/runtime/monitor-main.ts',
  // tsbox-runtime (bin/tsbox-runtime): the OCI runtime CLI engines call.
  runtime: 'src/oci/runtime/main.ts',
  // bin/tsbox-runtime's entry: the engines' small calls (state, start, kill, delete) without
  // commander, zod and the spec translator; it loads runtime.cjs for every other call.
  'runtime-quick': 'src/oci/runtime/quick-main.ts',
};

// The old code caches go first: V8 checks a cache against the source's length only, so
// compiling a new bundle of the same length (a changed digit) would accept the old cache,
// and the cache written below would be made from the old code: the program would run stale code.
for (const name of Object.keys(programs)) rmSync(`dist/${name}.v8-cache`, { force: true });
await build({ ...common, entryPoints: ['src/boot/start.ts'], outfile: 'dist/start.cjs' });
for (const [name, entry] of Object.entries(programs)) {
  await build({ ...common, plugins: [lazyBuiltins, zodLazyBind, koffiDirect], banner: { js: `${common.banner.js}\n${lazyRequire}` }, entryPoints: [entry], outfile: `dist/${name}.cjs` });
}
// --explain's renderer and texts: a bundle of their own, required only with --explain
// (src/explain/load.ts), so that no program above carries them. Not a program: no code cache.
await build({ ...common, entryPoints: ['src/explain/render.ts'], outfile: 'dist/explain.cjs' });

// The code cache comes from a node started exactly as tsbox starts its programs: V8
// rejects a cache made under other flags (src/boot/programs.ts, PROGRAM_NODE_FLAGS).
const start = (await import('../dist/start.cjs')).default;
for (const name of Object.keys(programs)) {
  const flags = start.programNodeFlags(name);
  execFileSync(process.execPath, [...flags, '-e', `require('./dist/start.cjs').buildCodeCache(${JSON.stringify(name)})`], { stdio: 'inherit', env: {} });
}
