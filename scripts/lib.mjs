// Shared helpers for `npm start` and `npm test`. Plain Node, no dependencies:
// these run before anything is installed.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, mkdtempSync, chownSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PNPM_VERSION = '12.4.2';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function log(msg) {
  process.stderr.write(`[calbridge] ${msg}\n`);
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  }
}

function versionOf(cmd) {
  try {
    return execFileSync(cmd, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Returns a pnpm executable of the pinned version, installing it when needed. */
export function ensurePnpm() {
  if (versionOf('pnpm') === PNPM_VERSION) return 'pnpm';
  const local = join(root, '.tools', 'node_modules', '.bin', 'pnpm');
  if (existsSync(local) && versionOf(local) === PNPM_VERSION) return local;
  log(`installing pnpm ${PNPM_VERSION} into .tools/`);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', join(root, '.tools'), `pnpm@${PNPM_VERSION}`]);
  return local;
}

/** Installs the workspace's dependencies exactly as the lock file says. */
export function ensureDependencies() {
  const pnpm = ensurePnpm();
  run(pnpm, ['install', '--frozen-lockfile', '--reporter=silent']);
  return pnpm;
}

let aptUpdated = false;
function aptInstall(pkgs, why) {
  if (!isRoot) {
    log(`missing ${why}: run  sudo apt-get install -y ${pkgs.join(' ')}  and try again`);
    process.exit(1);
  }
  log(`installing ${pkgs.join(' ')} (${why}) with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update', '-qq'], { env });
    aptUpdated = true;
  }
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
}

/** Finds the newest installed PostgreSQL server binaries, installing Debian's postgresql when missing. */
export function ensurePostgresBin() {
  const find = () => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return null;
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions.length ? join(base, versions[0], 'bin') : null;
  };
  let bin = find();
  if (!bin) {
    aptInstall(['postgresql'], 'PostgreSQL for the tests');
    bin = find();
  }
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql after install');
  return bin;
}

/** Returns the path of Debian's Chromium, installing it when missing. */
export function ensureChromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  let found = candidates.find((p) => existsSync(p));
  if (!found) {
    aptInstall(['chromium'], 'headless Chromium for the browser tests');
    found = '/usr/bin/chromium';
  }
  return found;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a throwaway PostgreSQL cluster in a temporary directory on a free port.
 * initdb refuses to run as root, so as root the cluster belongs to the postgres user.
 */
export async function startThrowawayPostgres() {
  const bin = ensurePostgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'calbridge-pg-'));
  const port = await freePort();
  const asPg = isRoot ? (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : (cmd, args) => [cmd, args];
  if (isRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = join(dir, 'data');
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
  run(...asPg(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']), quiet);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
  run(...asPg(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', opts, 'start']), quiet);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    bin,
    dir,
    stop() {
      try {
        spawnSync(...asPg(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    /** Control for tests that stop and restart the database mid-stream. */
    pgCtl: { bin, data, dir, opts, asPgUser: isRoot },
  };
}

export function spawnChild(cmd, args, opts = {}) {
  return spawn(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
}
