// `npm run check:image`: builds the image and starts compose.yaml's stack with a real container
// engine, then checks from outside what test/e2e/image.test.ts cannot (that test replays the
// Dockerfile's file steps and runs everywhere; this one needs Docker or Podman with compose):
// PostgreSQL and the server healthy, the server as a non-root user that cannot write its own code,
// the spool volume writable, a tenant's config answered with a strong ETag and 304, SIGTERM ending
// the server cleanly (exit 0) within compose's grace, and its data still there after a restart.
// `--ci` then also runs `.ci/run` (the whole suite) inside the image's build stage, as compose's
// `ci` profile does. Everything it starts is removed at the end, volumes included.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { log, root } from './lib.mjs';

const withSuite = process.argv.includes('--ci');
const engine = ['docker', 'podman'].find((cmd) => spawnSync(cmd, ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0);
if (!engine) {
  log('check:image: no container engine answers (`docker info` / `podman info`): start one first');
  process.exit(2);
}
// Compose v2 (`docker compose`) or the older standalone `docker-compose`; compose.yaml works with both.
const compose = [[engine, 'compose'], ['docker-compose'], ['podman-compose']].find(
  ([cmd, ...sub]) => spawnSync(cmd, [...sub, 'version'], { stdio: 'ignore', timeout: 20_000 }).status === 0,
);
if (!compose) {
  log(`check:image: no compose (\`${engine} compose\` or \`docker-compose\`): install one first`);
  process.exit(2);
}

const project = `calbridge-check-${randomBytes(3).toString('hex')}`;
const work = mkdtempSync(join(tmpdir(), 'calbridge-check-image-'));
// Three consecutive free ports: compose maps each replica of the server to one of them.
async function freeRange(n) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 40_000);
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => portFree(first + i)));
    if (ok.every(Boolean)) return first;
  }
  throw new Error('no three consecutive free ports');
}
function portFree(p) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(p, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}
const firstPort = await freeRange(3);
const adminToken = randomBytes(32).toString('hex');
const portRange = `${firstPort}-${firstPort + 2}`;
writeFileSync(
  join(work, '.env'),
  [
    `POSTGRES_PASSWORD=${randomBytes(24).toString('hex')}`,
    `CALBRIDGE_ENCRYPTION_KEYS=k1:${randomBytes(32).toString('base64')}`,
    `CALBRIDGE_ADMIN_TOKEN=${adminToken}`,
    `PUBLIC_URL=http://localhost:${firstPort}`,
    // A range, so the server's service can be scaled to three replicas below.
    `CALBRIDGE_PORT=${portRange}`,
  ].join('\n') + '\n',
  { mode: 0o600 },
);

const [composeCmd, ...composeSub] = compose;
function dc(args, { timeout = 600_000, quiet = false } = {}) {
  const r = spawnSync(composeCmd, [...composeSub, '--env-file', join(work, '.env'), '-p', project, ...args], {
    cwd: root,
    stdio: quiet ? 'pipe' : 'inherit',
    timeout,
  });
  if (r.status !== 0) throw new Error(`${compose.join(' ')} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  return r.stdout?.toString() ?? '';
}
const containers = (service) => dc(['ps', '-q', service], { quiet: true }).trim().split('\n').filter(Boolean);
const container = (service) => containers(service)[0];
/** The address a container's published port 8787 is reached at from here. */
const baseOf = (id) => `http://127.0.0.1:${execFileSync(engine, ['port', id, '8787']).toString().trim().split('\n')[0].split(':').pop()}`;
const inspect = (id, format) => execFileSync(engine, ['inspect', id, '--format', format]).toString().trim();
const exec = (id, script) => spawnSync(engine, ['exec', id, 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });

async function until(what, check, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok });
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}

const started = Date.now();
try {
  log(`check:image: ${engine}, ${compose.join(' ')}, project ${project}, ports ${portRange}`);
  dc(['build', 'calbridge']);
  const built = Date.now();
  dc(['up', '-d', 'postgres', 'calbridge']);
  const server = container('calbridge');
  const health = await until('the server container healthy', async () => inspect(server, '{{.State.Health.Status}}') === 'healthy', 180_000);
  check('compose up: PostgreSQL healthy, then the server healthy (its HEALTHCHECK asks /readyz)', health, `${((Date.now() - built) / 1000).toFixed(1)} s after the build`);
  const base = baseOf(server);

  const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) });
  check('GET /readyz through the published port: 200', ready.status === 200);
  const widget = await fetch(`${base}/widget.js`, { signal: AbortSignal.timeout(5_000) });
  check('GET /widget.js: 200 JavaScript', widget.status === 200 && /javascript/.test(widget.headers.get('content-type') ?? ''));
  const consoleIndex = await fetch(`${base}/admin/`, { signal: AbortSignal.timeout(5_000) });
  check('GET /admin/: the console, 200', consoleIndex.status === 200);

  const uid = exec(server, 'id -u').stdout.trim();
  check('the server runs as a non-root user', uid !== '' && uid !== '0', `uid ${uid}`);
  check('the server cannot write its own code', exec(server, 'touch /app/server/dist/main.js').status !== 0);
  check('the spool volume is writable', exec(server, 'touch "$CALBRIDGE_DATA_DIR/.check" && rm "$CALBRIDGE_DATA_DIR/.check"').status === 0);

  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const created = await fetch(`${base}/v1/admin/tenants`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ slug: 'image-check', name: 'Image check', allowedOrigins: ['https://image-check.example'], calLink: 'image-check/intro' }),
    signal: AbortSignal.timeout(10_000),
  });
  check('POST /v1/admin/tenants with the admin token: 201', created.status === 201);
  const config = await fetch(`${base}/v1/widget/image-check/config`, { signal: AbortSignal.timeout(5_000) });
  const etag = config.headers.get('etag');
  check('GET /v1/widget/:tenant/config: 200 with a strong ETag', config.status === 200 && !!etag && !etag.startsWith('W/'));
  const again = await fetch(`${base}/v1/widget/image-check/config`, { headers: { 'if-none-match': etag ?? '' }, signal: AbortSignal.timeout(5_000) });
  check('the same with If-None-Match: 304', again.status === 304);

  const stopAt = Date.now();
  execFileSync(engine, ['stop', '-t', '15', server]);
  const stopMs = Date.now() - stopAt;
  const exit = inspect(server, '{{.State.ExitCode}}');
  const logs = spawnSync(engine, ['logs', '--tail', '5', server], { encoding: 'utf8' });
  check('SIGTERM (docker stop): the server stops itself, exit 0, well within the 15 s grace', exit === '0' && stopMs < 15_000 && /"msg":"stopped"/.test(logs.stdout + logs.stderr), `${stopMs} ms, exit ${exit}`);
  execFileSync(engine, ['start', server]);
  await until('the restarted server healthy', async () => inspect(server, '{{.State.Health.Status}}') === 'healthy', 120_000);
  const kept = await fetch(`${baseOf(server)}/v1/admin/tenants/image-check`, { headers: admin, signal: AbortSignal.timeout(5_000) });
  check('after a restart: healthy again, and the tenant is still there (PostgreSQL volume)', kept.status === 200);

  // Three replicas of the server on the one PostgreSQL (and one spool volume), each reached on its own port.
  dc(['up', '-d', '--scale', 'calbridge=3', '--no-recreate', 'calbridge']);
  const replicas = containers('calbridge');
  await until('three healthy replicas', async () => replicas.length === 3 && replicas.every((id) => inspect(id, '{{.State.Health.Status}}') === 'healthy'), 180_000);
  const [one, two, three] = replicas.map(baseOf);
  check('scaled to three replicas (--scale calbridge=3), each healthy on its own port', new Set([one, two, three]).size === 3);
  const site = 'https://image-check.example';
  const { consent } = await (await fetch(`${one}/v1/widget/image-check/config`, { headers: { origin: site }, signal: AbortSignal.timeout(5_000) })).json();
  // As the widget sends it: JSON in a text/plain body, no preflight (decision 0042).
  const minted = await fetch(`${one}/v1/widget/image-check/sessions`, {
    method: 'POST',
    headers: { origin: site, 'content-type': 'text/plain;charset=UTF-8' },
    body: JSON.stringify({ consent: { version: consent.version, purposes: ['booking'] }, context: { pageUrl: `${site}/`, referrer: '', utm: {} } }),
    signal: AbortSignal.timeout(10_000),
  });
  const session = minted.status === 201 ? await minted.json() : {};
  const observed = await fetch(`${two}/v1/widget/image-check/bookings/observed`, {
    method: 'POST',
    headers: { origin: site, 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
    body: JSON.stringify({ uid: 'image-check-booking' }),
    signal: AbortSignal.timeout(10_000),
  });
  check('a widget session minted by one replica is accepted by another', minted.status === 201 && observed.status === 201, `${minted.status}, ${observed.status}`);
  const rotated = await fetch(`${two}/v1/admin/tenants/image-check/webhook-secret`, { method: 'POST', headers: admin, signal: AbortSignal.timeout(10_000) });
  const { secret } = rotated.ok ? await rotated.json() : {};
  const delivery = JSON.stringify({ triggerEvent: 'BOOKING_CREATED', createdAt: new Date().toISOString(), payload: { uid: 'image-check-booking' } });
  const sign = (key) => createHmac('sha256', key).update(delivery).digest('hex');
  const deliver = (signature) =>
    fetch(`${three}/v1/webhooks/calcom/image-check`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cal-signature-256': signature }, body: delivery, signal: AbortSignal.timeout(10_000) });
  const signed = await deliver(sign(secret ?? 'none'));
  const forged = await deliver(sign('not-the-secret'));
  const forgedCode = forged.status === 401 ? (await forged.json()).code : undefined;
  check(
    'a webhook secret rotated through one replica verifies a signed delivery at another at once; a forged one is refused',
    !!secret && signed.status === 200 && forgedCode === 'signature_invalid',
    `${rotated.status}, ${signed.status}, ${forged.status} ${forgedCode ?? ''}`,
  );

  if (withSuite) {
    // The build stage with its development dependencies, running what CI runs.
    const suite = spawnSync(composeCmd, [...composeSub, '--env-file', join(work, '.env'), '-p', project, '--profile', 'ci', 'run', '--rm', 'ci'], {
      cwd: root,
      stdio: 'inherit',
      timeout: 90 * 60_000,
    });
    check('compose --profile ci run ci: `.ci/run` passes inside the build stage', suite.status === 0);
  }
} catch (error) {
  check(String(error instanceof Error ? error.message : error), false);
} finally {
  try {
    dc(['--profile', 'ci', 'down', '-v', '--remove-orphans'], { timeout: 120_000, quiet: true });
  } catch (error) {
    log(`check:image: could not remove project ${project}: ${error instanceof Error ? error.message : error}`);
  }
  rmSync(work, { recursive: true, force: true });
}
const failed = results.filter((r) => !r.ok);
log(`check:image: ${results.length - failed.length} of ${results.length} checks passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failed.length ? 1 : 0);
