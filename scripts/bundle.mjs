// Bundles the two programs that run on every container start, the CLI and the
// container's init, into one file each. Node 20 loads an ES module graph of many small
// files slowly (zod's ESM build alone costs ~30 ms); one file per program cuts tsbox's
// start-up by tens of milliseconds. koffi (a native addon) and pino (loaded lazily, only
// when logging) stay external. tsc's per-file output in dist/ remains the library API.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi', 'pino', 'pino-pretty'],
  // CommonJS dependencies bundled into an ES module still call require() for built-ins.
  banner: { js: "import { createRequire as __tsboxCreateRequire } from 'node:module'; const require = __tsboxCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
};

await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/tsbox.mjs' });
await build({ ...common, entryPoints: ['src/init/main.ts'], outfile: 'dist/init.mjs' });
// tsbox exec's process: its own file, so neither program loads the other's code.
await build({ ...common, entryPoints: ['src/init/exec-main.ts'], outfile: 'dist/exec-init.mjs' });
