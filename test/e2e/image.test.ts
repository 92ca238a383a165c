import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, repoRoot } from '../support/product.js';

// The suite needs no container engine, so the image's contents are checked by replaying the
// Dockerfile's file steps: the production-dependency stage is installed as it says, the runtime
// stage gets exactly the files its COPY lines name, and its CMD and HEALTHCHECK run there. A file
// the runtime needs but the Dockerfile forgets (the console's build once was) fails here. The base
// image, USER, file ownership, signals and compose.yaml need an engine: `npm run check:image`.

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  steps: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? `stage${stages.length}`, steps: [] });
      continue;
    }
    stages.at(-1)?.steps.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** `COPY [--from=stage] src… dst` with /app as the stages' working directory. */
function copyStep(args: string): { from: string | null; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : null;
  const dest = words.pop()!;
  return { from, sources: words, dest };
}

function inStage(dir: string, path: string): string {
  return join(dir, path.replace(/^\/app\/?/, '').replace(/^\.\//, ''));
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const stage = (name: string) => {
  const s = dockerfile.find((x) => x.name === name);
  if (!s) throw new Error(`the Dockerfile has no stage ${name}`);
  return s;
};
const workspacePackages = [...readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8').matchAll(/^\s+-\s+(\S+)\s*$/gm)].map((m) => m[1]!);

const cluster = process.env.CALBRIDGE_TEST_PG_URL;
const dbName = `calbridge_image_${randomBytes(5).toString('hex')}`;
let databaseUrl: string;
let work: string;

beforeAll(async () => {
  if (!cluster) throw new Error('CALBRIDGE_TEST_PG_URL is not set: run the suites through `npm test`');
  const c = new pg.Client({ connectionString: cluster });
  await c.connect();
  await c.query(`CREATE DATABASE ${dbName}`);
  await c.end();
  const url = new URL(cluster);
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
  work = mkdtempSync(join(tmpdir(), 'calbridge-image-'));
});
afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (!cluster) return;
  const c = new pg.Client({ connectionString: cluster });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await c.end();
});

describe('the container image (Dockerfile)', () => {
  it('when dependencies are installed in the build stage, then every workspace package has its manifest there first', () => {
    const copied = stage('build')
      .steps.filter((s) => s.op === 'COPY' && copyStep(s.args).from === null)
      .flatMap((s) => copyStep(s.args).sources);
    const firstInstall = stage('build').steps.findIndex((s) => s.op === 'RUN');
    const beforeInstall = stage('build')
      .steps.slice(0, firstInstall)
      .filter((s) => s.op === 'COPY')
      .flatMap((s) => copyStep(s.args).sources);
    for (const p of workspacePackages) expect(beforeInstall, `${p}/package.json before the install`).toContain(`${p}/package.json`);
    expect(copied).toContain('.');
  });

  it('when the runtime stage is assembled as written, then `npm run serve` starts there, is healthy, and serves the widget and the console', async () => {
    // The build stage is this checkout after `npm run build` (what the e2e suites already use).
    const build = repoRoot;
    const prodDeps = join(work, 'prod-deps');
    const runtime = join(work, 'runtime');
    mkdirSync(prodDeps, { recursive: true });
    mkdirSync(runtime, { recursive: true });

    for (const step of stage('prod-deps').steps) {
      if (step.op === 'COPY') {
        const { from, sources, dest } = copyStep(step.args);
        for (const src of sources) {
          const origin = from === 'build' ? inStage(build, src) : join(repoRoot, src);
          const target = dest.endsWith('/') ? join(inStage(prodDeps, dest), src.split('/').pop()!) : inStage(prodDeps, dest);
          if (from === 'build' && src === '/app/.tools' && !existsSync(origin)) {
            // The image's build stage always has pnpm in .tools (no global pnpm there); here it may be global.
            mkdirSync(join(target, 'node_modules', '.bin'), { recursive: true });
            symlinkSync(execFileSync('sh', ['-c', 'command -v pnpm']).toString().trim(), join(target, 'node_modules', '.bin', 'pnpm'));
            continue;
          }
          mkdirSync(dirname(target), { recursive: true });
          cpSync(origin, target, { recursive: true, verbatimSymlinks: true });
        }
      } else if (step.op === 'RUN') {
        execFileSync('sh', ['-c', step.args], { cwd: prodDeps, env: { ...process.env, CI: 'true' }, stdio: 'pipe', timeout: 240_000 });
      }
    }

    const env: Record<string, string> = {};
    let cmd: string[] = [];
    let healthcheck: string[] = [];
    for (const step of stage('runtime').steps) {
      if (step.op === 'COPY') {
        const { from, sources, dest } = copyStep(step.args);
        expect(from, `runtime COPY ${step.args} comes from a stage`).not.toBeNull();
        for (const src of sources) {
          const origin = inStage(from === 'prod-deps' ? prodDeps : build, src);
          expect(existsSync(origin), `${src} exists in stage ${from}`).toBe(true);
          const target = dest.endsWith('/') ? join(inStage(runtime, dest), src.split('/').pop()!) : inStage(runtime, dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(origin, target, { recursive: true, verbatimSymlinks: true });
        }
      } else if (step.op === 'ENV') {
        for (const m of step.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
      } else if (step.op === 'CMD') {
        cmd = JSON.parse(step.args) as string[];
      } else if (step.op === 'HEALTHCHECK') {
        healthcheck = JSON.parse(/CMD\s+(\[.*\])$/.exec(step.args)![1]!) as string[];
      } else if (step.op === 'RUN') {
        // Only the data directory is made in the runtime stage; it is replaced by a temporary one below.
        expect(step.args).toMatch(/^mkdir -p \S+ && chown node:node \S+$/);
      }
    }
    expect(cmd[0]).toBe('node');
    expect(healthcheck[0]).toBe('node');

    const port = await freePort();
    const admin = randomBytes(24).toString('hex');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|CALBRIDGE_|CALCOM_|PUBLIC_URL|PORT|HOST|NODE_ENV)/.test(k)));
    const runEnv = {
      ...clean,
      ...env,
      CALBRIDGE_DATA_DIR: join(work, 'data'),
      LOG_LEVEL: 'warn',
      DATABASE_URL: databaseUrl,
      CALBRIDGE_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      CALBRIDGE_ADMIN_TOKEN: admin,
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    const child = spawn(process.execPath, cmd.slice(1), { cwd: runtime, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stderr.on('data', (d) => output.push(String(d)));
    createInterface({ input: child.stdout }).on('line', (l) => output.push(l));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    try {
      await new Promise<void>((ok, fail) => {
        const timer = setInterval(() => {
          if (output.some((l) => l.includes('Calbridge is running'))) {
            clearInterval(timer);
            ok();
          }
        }, 20);
        void exited.then((code) => {
          clearInterval(timer);
          fail(new Error(`the image's command exited with ${code}:\n${output.join('\n')}`));
        });
      });
      // The image's own health check, as the engine would run it.
      expect(() => execFileSync(process.execPath, healthcheck.slice(1), { env: runEnv, timeout: 10_000 })).not.toThrow();
      const base = `http://127.0.0.1:${port}`;
      const widget = await fetch(`${base}/widget.js`);
      expect(widget.status).toBe(200);
      const consolePage = await fetch(`${base}/admin/`);
      expect(consolePage.status).toBe(200);
      expect(consolePage.headers.get('content-type')).toMatch(/^text\/html/);
      const script = /<script[^>]+src="([^"]+)"/.exec(await consolePage.text())?.[1];
      expect(script).toMatch(/^\/admin\/assets\//);
      expect((await fetch(`${base}${script}`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 300_000);
});
