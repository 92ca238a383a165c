import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `n` free ports, all different: each is held open until every one is chosen. Asked for one at a
 * time (listen on 0, close, again), the kernel may hand the same port out twice, and then two of
 * the product's processes meet on it (EADDRINUSE: seen once in a bench:widget start).
 */
async function freePorts(n: number): Promise<number[]> {
  const held = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve, reject) => {
          const srv = createServer();
          srv.on('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve(srv));
        }),
    ),
  );
  const ports = held.map((srv) => (srv.address() as AddressInfo).port);
  await Promise.all(held.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}

export const freePort = async (): Promise<number> => (await freePorts(1))[0]!;

export interface RunningProduct {
  url: string;
  sandboxUrl: string | null;
  dataDir: string;
  adminToken: string;
  /** The admin console's origin (PUBLIC_URL: localhost, where its cookies live). */
  consoleUrl: string;
  /** The development IdP `npm start` ran (null when an issuer was configured) and its people's password. */
  devIdp: { issuer: string; password: string } | null;
  output: string[];
  /** SIGTERM to `npm start`'s launcher, as a process manager sends it; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts Calbridge the way `npm start` does after its install and build steps
 * (scripts/launch.mjs), on free ports and a data directory of its own.
 */
export async function startProduct(options: { dataDir?: string; env?: Record<string, string> } = {}): Promise<RunningProduct> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'calbridge-e2e-'));
  const [port, sandboxPort, devIdpPort] = (await freePorts(3)) as [number, number, number];
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    CALCOM_SANDBOX_PORT: String(sandboxPort),
    CALBRIDGE_DEV_IDP_PORT: String(devIdpPort),
    CALBRIDGE_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  delete env.DATABASE_URL;
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'scripts', 'launch.mjs')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stderr!.on('data', (d) => output.push(String(d)));
  const ready = await new Promise<{ url: string; sandbox: string | null; devIdp?: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Calbridge did not start in 90 s:\n${output.join('')}`)), 90_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      try {
        const msg = JSON.parse(line) as { calbridge?: string; url: string; sandbox: string | null; devIdp?: string | null };
        if (msg.calbridge === 'ready') {
          clearTimeout(timer);
          resolve(msg);
        }
      } catch {
        // Not every line is JSON.
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`launch exited with ${code}:\n${output.join('\n')}`));
    });
  });
  const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { CALBRIDGE_ADMIN_TOKEN: string };
  return {
    url: `http://127.0.0.1:${port}`,
    sandboxUrl: ready.sandbox,
    dataDir,
    adminToken: secrets.CALBRIDGE_ADMIN_TOKEN,
    consoleUrl: `http://localhost:${port}`,
    devIdp:
      ready.devIdp && existsSync(join(dataDir, 'dev-idp.json'))
        ? { issuer: ready.devIdp, password: (JSON.parse(readFileSync(join(dataDir, 'dev-idp.json'), 'utf8')) as { CALBRIDGE_DEV_IDP_PASSWORD: string }).CALBRIDGE_DEV_IDP_PASSWORD }
        : null,
    output,
    stop: () =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}
