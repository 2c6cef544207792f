/**
 * --label KEY=VALUE and --label-file FILE, as docker reads them: KEY alone means an empty
 * value; a file holds one label per line, blank lines and '#' comments ignored; flags
 * override the files. Pure.
 */
import { UsageError } from '../errors.js';

export function parseLabel(text: string, where = '--label'): [string, string] {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? '' : text.slice(eq + 1);
  if (key.trim() === '') throw new UsageError(`invalid ${where} '${text}': the label name is empty`, { hint: 'Use --label KEY=VALUE, e.g. --label env=ci.' });
  if (/[\s\0]/.test(key)) throw new UsageError(`invalid ${where} '${text}': the label name contains white space`, { hint: 'Use --label KEY=VALUE, e.g. --label env=ci.' });
  return [key, value];
}

export function parseLabelFile(text: string, file: string): [string, string][] {
  const out: [string, string][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    out.push(parseLabel(trimmed, `label in ${file} line ${i + 1}`));
  });
  return out;
}

export function mergeLabels(fromFiles: readonly [string, string][], fromFlags: readonly [string, string][]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of [...fromFiles, ...fromFlags]) labels[k] = v;
  return labels;
}
