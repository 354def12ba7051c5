/**
 * The README's walkthrough, run as written against `npm start`, so that it cannot drift from the product.
 *
 * Which commands: every ```sh block of README.md preceded by a line `<!-- walkthrough -->` (invisible once rendered),
 * in file order, all in one bash (`set -euo pipefail`), so the variables a block sets ($KEY, $O, $RA…) and the
 * background job it starts reach the next ones, as in the reader's terminal. What counts as success:
 * - every command exits 0; `curl` runs with `--fail-with-body --show-error`, so an HTTP answer ≥ 400 (a 409, a 422) fails too;
 * - a command whose line ends with `# → <text>` must print `<text>` as its last line (the README shows what the
 *   reader will see; the test holds it to that).
 * What differs from the reader's terminal, and only that: the stack listens on free ports (the text's
 * `127.0.0.1:3000` and the dev DNS's `5353` are rewritten to them), and the commands run in a scratch folder of
 * `test-results/` whose `data` is the stack's data folder and whose `scripts` is the clone's, as at the top of a clone.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../../domain/order.js';
import { freePort } from '../../scripts/scratch.js';
import { adminCli, embeddedStack, ROOT, type EmbeddedStack } from './process-group.js';

interface WalkthroughBlock {
  /** The heading (### …) the block stands under. */
  readonly heading: string;
  readonly commands: string;
}

const MARKER = '<!-- walkthrough -->';

/** The marked ```sh blocks of a README, in order. A marker not followed by a ```sh block is an error of the README. */
function walkthroughBlocks(readme: string): WalkthroughBlock[] {
  const lines = readme.split('\n');
  const blocks: WalkthroughBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('#')) heading = line.replace(/^#+\s*/, '');
    if (line.trim() !== MARKER) continue;
    if (lines[i + 1] !== '```sh') throw new Error(`README line ${i + 1}: ${MARKER} must stand right above a \`\`\`sh block`);
    const end = lines.indexOf('```', i + 2);
    if (end < 0) throw new Error(`README line ${i + 2}: unclosed block`);
    blocks.push({ heading, commands: lines.slice(i + 2, end).join('\n') });
    i = end;
  }
  return blocks;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** One block as bash: each logical command (continuation lines joined) as written, those with `# → x` checked. */
function blockScript(block: WalkthroughBlock, index: number): string {
  const out = [`__block ${index} ${quote(block.heading)}`];
  let logical: string[] = [];
  for (const line of block.commands.split('\n')) {
    logical.push(line);
    if (line.endsWith('\\')) continue;
    const last = logical.at(-1) as string;
    const expectation = /^(.*\S)\s+# → (.+?)\s*$/.exec(last);
    if (expectation) {
      const command = [...logical.slice(0, -1), expectation[1] as string].join('\n');
      out.push(`__out=$(${command}\n)`, `__expect ${quote(expectation[2] as string)} "$__out"`);
    } else {
      out.push(logical.join('\n'));
    }
    logical = [];
  }
  return out.join('\n');
}

const PRELUDE = String.raw`set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
__block() { __BLOCK="$1 ($2)"; echo "::block $1::"; }
__expect() {
  printf '%s\n' "$2"
  local last; last=$(printf '%s\n' "$2" | tail -n 1)
  if [ "$last" != "$1" ]; then echo "::expected '$1', got '$last' in block $__BLOCK" >&2; exit 1; fi
}
trap 'echo "::failed in block $__BLOCK, line $LINENO: $BASH_COMMAND" >&2' ERR
`;

/** The README's text with the reader's addresses replaced by the test stack's. */
function forStack(script: string, ports: { api: number; dns: number }): string {
  return script.replaceAll('127.0.0.1:3000', `127.0.0.1:${ports.api}`).replaceAll('5353', String(ports.dns));
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Its own process group, so that a background job the walkthrough left (the dev DNS) goes with it.
    const child = spawn('bash', ['-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n::walkthrough still running after ${timeoutMs} ms: killed`;
      killGroup();
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      killGroup();
      resolve({ code, stdout, stderr });
    });
  });
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
let stack: EmbeddedStack;
let dnsPort: number;
let workDir: string;

beforeAll(async () => {
  dnsPort = await freePort();
  stack = await embeddedStack({ logLevel: 'warn', env: { DCV_DNS_SERVERS: `127.0.0.1:${dnsPort}`, DCV_TIMEOUT_MS: '3000' } });
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  workDir = mkdtempSync(join(ROOT, 'test-results', 'readme-walkthrough-'));
  symlinkSync(stack.dataDir, join(workDir, 'data'));
  symlinkSync(join(ROOT, 'scripts'), join(workDir, 'scripts'));
  await stack.start();
});
afterAll(async () => {
  await stack?.dispose();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe('the README walkthrough', () => {
  it('is made of marked shell blocks under its headings, whose results it states', () => {
    const blocks = walkthroughBlocks(README);
    expect(blocks.map((b) => b.heading)).toEqual([
      'A first order',
      'The life of an order',
      'The life of an order',
      'The life of an order',
      'Server certificates, domain control and the CA',
      'Server certificates, domain control and the CA',
      'Server certificates, domain control and the CA',
    ]);
    // Both orders end completed, as the text says: the person's in "The life of an order", the server's last.
    const stated = (heading: string) => blocks.filter((b) => b.heading === heading).flatMap((b) => [...b.commands.matchAll(/# → (\S+)/g)].map((m) => m[1]));
    expect(stated('The life of an order').at(-1)).toBe('completed');
    expect(stated('Server certificates, domain control and the CA')).toContain('completed');
    // Nothing sends the reader outside the clone.
    expect(README).not.toMatch(/\.\.\/shared\//);
  });

  it('runs as written against npm start, and leaves both orders completed', async () => {
    const script = PRELUDE + walkthroughBlocks(README).map(blockScript).join('\n');
    const run = await runBash(forStack(script, { api: Number(stack.env.PORT), dns: dnsPort }), workDir, stack.env, 240_000);
    const report = `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n--- stack\n${stack.output()}`;
    // What the reader would have seen, kept beside the other test artefacts.
    writeFileSync(join(ROOT, 'test-results', 'readme-walkthrough.log'), report);
    expect(run.code, report).toBe(0);
    expect(run.stdout.match(/^::block \d+::$/gm)?.length, report).toBe(walkthroughBlocks(README).length);

    // What the stack holds afterwards, read with a key of the test's own: the two orders the walkthrough made.
    const cli = await adminCli(stack.env, 'users', 'create', '--role', 'auditor', '--email', 'auditor@walkthrough.test', '--api-access', '--json');
    expect(cli.status, cli.stderr).toBe(0);
    const { apiKey } = cli.json<{ apiKey: string }>();
    const res = await fetch(`${stack.base}/v1/orders`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: OrderView[] };
    expect(items.map((o) => [o.product, o.status]).sort()).toEqual([
      ['ID_RGS_STAR', 'completed'],
      ['SSL', 'completed'],
    ]);
  }, 300_000);
});
