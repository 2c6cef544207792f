/**
 * --explain for tsbox network create/rm and tsbox pull (issue 15): what it names is what
 * --debug traced in the same run (every netlink message and nft change; every registry
 * exchange, document, blob and layer), with real digests and sizes, on stderr only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PULL_STEPS } from '../../src/registry/trace.js';
import { podman, sh, skopeo, startRegistry, type LocalRegistry } from '../helpers/registry.js';
import { testRoot, tsbox } from '../helpers/tsbox.js';
import { splitExplainJson, type ExplainedStep } from '../helpers/explain.js';

const split = splitExplainJson;
type Explained = ExplainedStep;
const sorted = (xs: string[]) => [...xs].sort();
const steps = (e: Explained[]) => [...new Set(e.map((s) => s.step))];
const notesOf = (e: Explained[], step: string) => e.filter((s) => s.step === step).flatMap((s) => s.notes);

describe('tsbox network create/rm --explain', () => {
  const name = `tsbx${process.pid % 100000}`;
  const root = testRoot();

  afterAll(async () => {
    await tsbox(['network', 'rm', name], { root });
  });

  it('names each netlink message and nft change --debug traced, by its symbolic header, under its step', async () => {
    const c = await tsbox(['network', 'create', '--debug', '--explain=json', name], { root });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(`${name}\n`);
    const created = split(c.stderr);
    const traced = (d: { msg: string }[]) => d.map((l) => l.msg).filter((m) => /^(netlink|nft): /.test(m));
    const named = (e: Explained[]) => e.flatMap((s) => s.notes).filter((m) => /^(netlink|nft): /.test(m));
    // Not one message more, not one less, not one argument different.
    expect(sorted(named(created.explained))).toEqual(sorted(traced(created.debug)));
    expect(steps(created.explained)).toEqual(['read host routes', 'define network']);
    const routes = notesOf(created.explained, 'read host routes');
    expect(routes).toContainEqual(expect.stringMatching(/^netlink: list links \[RTM_GETLINK NLM_F_REQUEST\|NLM_F_DUMP, host, \d+ bytes\] ok$/));
    expect(routes).toContainEqual(expect.stringMatching(/^netlink: list IPv4 routes \[RTM_GETROUTE NLM_F_REQUEST\|NLM_F_DUMP, host, \d+ bytes\] ok$/));
    // The definition's real values, as network inspect shows them, in the sentences.
    const i = await tsbox(['network', 'inspect', name], { root });
    const [def] = JSON.parse(i.stdout) as { subnet: string; gateway: string; bridge: string }[];
    const define = created.explained.find((s) => s.step === 'define network')!;
    expect(define.explain).toContain(`a link of kind "bridge" named ${def!.bridge}`);
    expect(define.explain).toContain(`RTM_NEWADDR (${def!.gateway}/${def!.subnet.split('/')[1]} on ${def!.bridge}`);
    expect(define.explain).toContain(`adds ${def!.subnet} to the set "subnets"`);
    expect(created.explained.find((s) => s.step === 'read host routes')!.without).toMatch(/^without the check a subnet could overlap/);

    const r = await tsbox(['network', 'rm', '--debug', '--explain=json', name], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${name}\n`);
    const removed = split(r.stderr);
    expect(sorted(named(removed.explained))).toEqual(sorted(traced(removed.debug)));
    // No container ever attached: the bridge was never made, and the kernel says so by name.
    expect(notesOf(removed.explained, 'delete bridge')).toContainEqual(expect.stringMatching(new RegExp(`^netlink: delete link ${def!.bridge} \\[RTM_DELLINK NLM_F_REQUEST\\|NLM_F_ACK, host, \\d+ bytes\\] failed \\(ENODEV\\)$`)));
    expect(steps(removed.explained)).toContain('remove network definition');
    expect((await tsbox(['network', 'inspect', name], { root })).code).not.toBe(0);
  });

  it('is text on stderr, and without --explain or --debug nothing is written there', async () => {
    const c = await tsbox(['network', 'create', '--explain', name], { root });
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toBe(`${name}\n`);
    expect(c.stderr).toMatch(/^▸ read host routes\n {2}A user network is a Linux bridge/m);
    expect(c.stderr).toMatch(/^ {4}· netlink: list IPv4 routes \[RTM_GETROUTE NLM_F_REQUEST\|NLM_F_DUMP, host, \d+ bytes\] ok$/m);
    expect(c.stderr).not.toMatch(/\x1b\[/);
    const r = await tsbox(['network', 'rm', name], { root });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, `${name}\n`, '']);
  });
});

describe('tsbox pull --explain', () => {
  let work: string;
  let registry: LocalRegistry;
  const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const raw = async (args: string[]) => Buffer.from(`${await skopeo('inspect', '--raw', '--tls-verify=false', ...args)}`, 'utf8');

  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/tsbox-explain-pull-');
    const pm = podman(join(work, 'podman'));
    registry = await startRegistry(join(work, 'registry'));
    const dir = join(work, 'rootfs');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
    writeFileSync(join(dir, 'payload'), randomBytes(4096));
    await sh('tar', ['-C', dir, '-cf', join(work, 'rootfs.tar'), '.']);
    await pm('import', '--change', 'CMD ["/bin/busybox","sh"]', join(work, 'rootfs.tar'), 'localhost/t-explain:latest');
    await pm('manifest', 'create', 'localhost/t-explain-list:latest');
    await pm('manifest', 'add', 'localhost/t-explain-list:latest', 'containers-storage:localhost/t-explain:latest');
    await pm('manifest', 'push', '--all', '--tls-verify=false', 'localhost/t-explain-list:latest', `docker://${registry.host}/t/explain:latest`);
  }, 180_000);

  afterAll(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('explains each step with the real digests and sizes, exactly the lines --debug logged', async () => {
    const ref = `${registry.host}/t/explain:latest`;
    const index = await raw([`docker://${ref}`]);
    const entry = (JSON.parse(index.toString()) as { manifests: { digest: string; size: number; platform: { os: string; architecture: string } }[] }).manifests.find((m) => m.platform.architecture === 'amd64')!;
    const manifest = JSON.parse((await raw([`docker://${registry.host}/t/explain@${entry.digest}`])).toString()) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
    const config = JSON.parse(await skopeo('inspect', '--config', '--raw', '--tls-verify=false', `docker://${registry.host}/t/explain@${entry.digest}`)) as { rootfs: { diff_ids: string[] } };
    const root = mkdtempSync(join(work, 'state-'));

    const r = await tsbox(['pull', '--debug', '--explain=json', ref], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${entry.digest}\n`); // stdout keeps only the digest
    const { debug, explained } = split(r.stderr);
    // Every step, in the order of a pull (no token: this registry is open), each with its text.
    expect(steps(explained)).toEqual(PULL_STEPS.filter((s) => s !== 'get token'));
    for (const s of explained) expect(s.explain, s.step).toMatch(/\w/);
    // What --explain shows is what --debug logged under those steps, line for line.
    const logged = debug.filter((l) => (PULL_STEPS as readonly string[]).includes(l.step ?? '')).map((l) => l.msg);
    expect(sorted(explained.flatMap((s) => s.notes))).toEqual(sorted(logged));

    expect(notesOf(explained, 'resolve reference')).toEqual([`${ref}: registry ${registry.host}, repository t/explain, tag latest`]);
    expect(notesOf(explained, 'contact registry')).toEqual([`GET http://${registry.host}/v2/ = 200 over plain HTTP: open, no authentication asked`]);
    const manifests = notesOf(explained, 'fetch manifest');
    expect(manifests).toContain(`GET /v2/t/explain/manifests/latest = 200: ${index.length} bytes, ${sha256(index)}, digest matches the Docker-Content-Digest header`);
    expect(manifests.some((n) => n.startsWith(`${sha256(index)} is an index`) && n.endsWith(`for linux/amd64 it names ${entry.digest} (${entry.size} bytes)`))).toBe(true);
    expect(manifests).toContain(`GET /v2/t/explain/manifests/${entry.digest} = 200: ${entry.size} bytes, ${entry.digest}, size and digest match the index entry`);
    expect(notesOf(explained, 'fetch config')).toContain(`GET /v2/t/explain/blobs/${manifest.config.digest} = 200: ${manifest.config.size} bytes, size and digest match the manifest`);
    const layers = notesOf(explained, 'fetch layers');
    for (const l of manifest.layers) expect(layers).toContain(`GET /v2/t/explain/blobs/${l.digest} = 200: ${l.size} bytes, size and digest match the manifest; streamed into the extraction`);
    const extracted = notesOf(explained, 'extract layers');
    manifest.layers.forEach((l, i) => expect(extracted[i]).toMatch(new RegExp(`^layer ${i + 1}: blob ${l.digest}, diff_id ${config.rootfs.diff_ids[i]}: extracted, \\d+ bytes of files, diff_id verified$`)));
    expect(notesOf(explained, 'write image record')).toEqual([`image ${manifest.config.digest}: ${manifest.layers.length} layer${manifest.layers.length === 1 ? '' : 's'}, tagged ${ref}`]);
    expect(explained.find((s) => s.step === 'fetch layers')!.without).toMatch(/^without the digest check a registry or a proxy could hand you other bytes than the manifest names/);

    // Again: the blobs and the layers are there, and --explain (text) says so.
    const again = await tsbox(['pull', '--explain', ref], { root });
    expect([again.code, again.stdout]).toEqual([0, `${entry.digest}\n`]);
    for (const l of manifest.layers) expect(again.stderr).toContain(`· ${l.digest} (${l.size} bytes): already in the layer store, not fetched`);
    expect(again.stderr).toMatch(/^ {4}· layer 1: blob sha256:[0-9a-f]{64}, diff_id sha256:[0-9a-f]{64}: already in the layer store, not extracted again$/m);
    // Without --explain or --debug, nothing on stderr.
    const quiet = await tsbox(['pull', ref], { root });
    expect([quiet.code, quiet.stderr]).toEqual([0, '']);
  });
});

describe('the network and pull texts stay out of the normal path', () => {
  it('are in dist/explain.cjs only', async () => {
    const { NETWORK_STEP_TEXTS } = await import('../../src/explain/network-steps.js');
    const { PULL_STEP_TEXTS } = await import('../../src/explain/pull-steps.js');
    const phrases = [...NETWORK_STEP_TEXTS, ...PULL_STEP_TEXTS].flatMap((t) => (typeof t.what === 'string' ? [t.what.slice(0, 30)] : [])).filter((p) => !/['"\\]/.test(p));
    expect(phrases.length).toBeGreaterThanOrEqual(8);
    const dist = new URL('../../dist/', import.meta.url);
    const explain = readFileSync(new URL('explain.cjs', dist), 'utf8');
    for (const p of phrases) expect(explain, p).toContain(p);
    for (const bundle of ['tsbox.cjs', 'init.cjs', 'exec-init.cjs', 'monitor.cjs', 'start.cjs']) {
      const code = readFileSync(new URL(bundle, dist), 'utf8');
      for (const p of phrases) expect(code.includes(p), `${bundle} carries "${p}"`).toBe(false);
    }
  });
});
