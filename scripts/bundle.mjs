// Bundles tsbox's programs (src/boot/programs.ts): the CLI, the container's init, the
// exec-init and a detached container's monitor, one CommonJS file each, plus dist/start.cjs that loads them with V8's code
// cache. Node 20 loads an ES module graph of many small files slowly (zod's ESM build
// alone costs ~30 ms) and has no code cache for ES modules; one CommonJS file per program
// and a cache written here cut each start by tens of milliseconds. koffi (a native addon)
// and pino (loaded lazily, only when logging) stay external. tsc's per-file output in
// dist/ remains the library API.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

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
};

// The old code caches go first: V8 checks a cache against the source's length only, so
// compiling a new bundle of the same length (a changed digit) would accept the old cache,
// and the cache written below would be made from the old code: the program would run stale code.
for (const name of Object.keys(programs)) rmSync(`dist/${name}.v8-cache`, { force: true });
await build({ ...common, entryPoints: ['src/boot/start.ts'], outfile: 'dist/start.cjs' });
for (const [name, entry] of Object.entries(programs)) {
  await build({ ...common, entryPoints: [entry], outfile: `dist/${name}.cjs` });
}

// The code cache comes from a node started exactly as tsbox starts its programs: V8
// rejects a cache made under other flags (src/boot/programs.ts, PROGRAM_NODE_FLAGS).
const start = (await import('../dist/start.cjs')).default;
for (const name of Object.keys(programs)) {
  const flags = start.programNodeFlags(name);
  execFileSync(process.execPath, [...flags, '-e', `require('./dist/start.cjs').buildCodeCache(${JSON.stringify(name)})`], { stdio: 'inherit', env: {} });
}
