/**
 * Reading `--debug --explain=json` output in tests: pino's debug lines carry a numeric level,
 * the explainer's lines a step (src/explain/render.ts ExplainedStep).
 */
import type { ExplainedStep } from '../../src/explain/render.js';

export type { ExplainedStep };
export { CALL_LINE } from '../../src/explain/render.js';

export function splitExplainJson(stderr: string): { debug: { msg: string; step?: string }[]; explained: ExplainedStep[] } {
  const debug: { msg: string; step?: string }[] = [];
  const explained: ExplainedStep[] = [];
  for (const line of stderr.trim().split('\n')) {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.level === 'number') debug.push(o as { msg: string });
    else explained.push(o as unknown as ExplainedStep);
  }
  return { debug, explained };
}
