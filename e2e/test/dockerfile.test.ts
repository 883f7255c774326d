// Unit test (no root, no Docker engine): the Dockerfile read statically. Every COPY source exists
// (in the build context, or — for COPY --from=build — in the tree `npm ci && npm run build`
// leaves), the runtime stage installs what felix and the CNI plugin run, and the entrypoint and
// every command the manifests run are bins the image links.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const l of joined) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(l);
    if (from) out.push({ from: from[1]!, name: from[2], lines: [] });
    else out.at(-1)?.lines.push(l);
  }
  return out;
}

/** Every bin a workspace declares (what scripts/link-bins.mjs links into node_modules/.bin). */
function workspaceBins(): Set<string> {
  const { workspaces } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { workspaces: string[] };
  const bins = new Set<string>();
  for (const ws of workspaces) {
    const pkg = JSON.parse(readFileSync(join(repo, ws, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    for (const name of Object.keys(pkg.bin ?? {})) bins.add(name);
  }
  return bins;
}

describe('Dockerfile', () => {
  const text = readFileSync(join(repo, 'Dockerfile'), 'utf8');
  const [build, runtime] = stages(text);

  it('builds on node:20-bookworm and runs on a Debian bookworm Node image', () => {
    expect(build).toMatchObject({ from: 'node:20-bookworm', name: 'build' });
    expect(runtime?.from).toMatch(/^node:20-bookworm/);
    expect(build!.lines.join('\n')).toMatch(/npm ci && npm run build/);
  });

  it('every COPY source exists', () => {
    for (const stage of [build!, runtime!]) {
      for (const l of stage.lines.filter((x) => /^COPY\s/i.test(x))) {
        const args = l.split(/\s+/).slice(1);
        const from = args.find((a) => a.startsWith('--from='))?.slice('--from='.length);
        const paths = args.filter((a) => !a.startsWith('--'));
        for (const src of paths.slice(0, -1)) {
          // COPY --from=build /src/X: X in the built tree (the build stage copies the context to /src).
          const path = from ? join(repo, src.replace(/^\/src\/?/, '')) : join(repo, src);
          if (from) expect(from, l).toBe('build');
          expect(existsSync(path), `${l}: ${src} (${path})`).toBe(true);
        }
      }
    }
  });

  it('installs the Debian packages felix and the CNI plugin run', () => {
    const apt = runtime!.lines.find((l) => l.includes('apt-get install')) ?? '';
    for (const pkg of ['iptables', 'ipset', 'iproute2']) expect(apt.split(/\s+/), pkg).toContain(pkg);
  });

  it('the entrypoint and every command the manifests run are linked bins', () => {
    const bins = workspaceBins();
    const entry = /^ENTRYPOINT\s+\["([^"]+)"/m.exec(runtime!.lines.join('\n'))?.[1];
    expect(entry).toBe('tabby-node');
    expect(bins.has(entry!)).toBe(true);
    expect(runtime!.lines.some((l) => /^ENV\s+PATH=\/opt\/tabby\/node_modules\/\.bin:/.test(l))).toBe(true);
    const commands = new Set<string>();
    for (const f of readdirSync(join(repo, 'manifests')).filter((x) => x.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(repo, 'manifests', f), 'utf8'))) {
        JSON.stringify(doc.toJS(), (k, v: unknown) => {
          if (k === 'command' && Array.isArray(v)) {
            const argv = v as string[];
            // sh -c SCRIPT: the first word of each command in the script (quoted text left out).
            if (argv[0] === 'sh') for (const m of (argv.at(-1) ?? '').replace(/"[^"]*"|'[^']*'/g, "''").matchAll(/(?:^|&&|\|\||[|;])\s*([\w-]+)/g)) commands.add(m[1]!);
            else commands.add(argv[0]!);
          }
          return v;
        });
      }
    }
    expect([...commands].sort()).toEqual(['printf', 'sed', 'tabby-cni-install', 'tabby-node']);
    // printf and sed come with the Debian base image; the rest must be our bins.
    for (const c of commands) if (c !== 'printf' && c !== 'sed') expect(bins.has(c), c).toBe(true);
  });
});
