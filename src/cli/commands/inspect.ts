/**
 * tsbox inspect NAME...: the record, the spec, and the live mounts of each container, as JSON.
 * --namespaces: what the kernel holds for a running container (runtime/namespace-view.ts):
 * its namespace ids next to the host's, its cgroup and limits, its mounts; text, or JSON
 * with --format json.
 */
import { Command, Option } from 'commander';
import { inspectContainer } from '../../runtime/inspect.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { UsageError } from '../../errors.js';

export function inspectCommand(): Command {
  const cmd = new Command('inspect')
    .description('show everything tsbox knows about containers, as JSON')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .option('--namespaces', 'the running container\'s namespaces next to the host\'s, its cgroup and limits as the kernel holds them, its mounts', false)
    .addOption(new Option('--format <format>', 'text or json (--namespaces: default text; otherwise always json)').choices(['text', 'json']))
    .action(async (refs: string[], flags: CommonOptions & { namespaces: boolean; format?: 'text' | 'json' }) => {
      const store = storeFor(flags.root);
      if (!flags.namespaces) {
        if (flags.format === 'text') throw new UsageError('--format text needs --namespaces: inspect prints JSON', { hint: 'Drop --format, or add --namespaces.' });
        writeLine(1, JSON.stringify(refs.map((ref) => inspectContainer(store, ref)), null, 2));
        return;
      }
      // Loaded only when asked: nothing of it is on inspect's usual path.
      const { readNamespaceView, formatNamespaceView } = await import('../../runtime/namespace-view.js');
      const views = refs.map((ref) => readNamespaceView(store, store.resolve(ref)));
      writeLine(1, flags.format === 'json' ? JSON.stringify(views, null, 2) : views.map(formatNamespaceView).join('\n\n'));
    });
  return addCommonOptions(cmd);
}
