/**
 * Loads the explainer (src/explain/render.ts and its texts) only when --explain is given.
 * It is a bundle of its own, dist/explain.cjs (scripts/bundle.mjs), so that none of its
 * text is in the CLI's, the init's or the monitor's bundle: a run without --explain
 * neither parses nor compiles it (tests/unit/explain-bundle.test.ts checks the bundles).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TsboxError } from '../errors.js';

/** A log record as the explainer gets it: the fields (with the logger's bindings) and the message. */
export interface ExplainSink {
  record(fields: Record<string, unknown>, msg: string): void;
  /** The last step's closing lines (the run ended, or failed). */
  end(): void;
}

export interface Explainer {
  createExplainSink(format: 'text' | 'json'): ExplainSink;
}

export function loadExplainer(): Explainer {
  // From a bundle (dist/tsbox.cjs, dist/monitor.cjs) it sits beside us; from tsc's dist/explain/load.js one level up.
  for (const rel of ['./explain.cjs', '../explain.cjs']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return createRequire(import.meta.url)(path) as Explainer;
  }
  throw new TsboxError('cannot find dist/explain.cjs, which --explain needs', { step: 'explain', hint: "Run 'npm run build'." });
}
