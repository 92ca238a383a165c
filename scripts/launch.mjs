// Starts what `npm start` runs, from already-built packages: the Cal.com sandbox
// (when no Cal.com credentials are configured), the server, and the demo tenant.
// The end-to-end tests start the product through this same file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { root, log } from './lib.mjs';

const env = { ...process.env };
const port = Number(env.PORT || 8787);
const dataDir = resolve(root, env.CALBRIDGE_DATA_DIR || '.calbridge');
env.CALBRIDGE_DATA_DIR = dataDir;
const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/$/, '');
const children = [];
let stopping = false;

// Waits for the children to stop (the server drains requests and jobs, then stops the embedded
// database) before exiting, so whoever waits for `npm start` to end finds its data directory quiet.
// Each child is asked once: the first child to finish must not make this send the others a second
// SIGTERM, which the server reads as "stop now" and which would skip its drain.
function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  const alive = children.filter((c) => c.exitCode === null && c.signalCode === null);
  if (alive.length === 0) process.exit(code);
  let left = alive.length;
  for (const c of alive) {
    c.once('exit', () => {
      if (--left === 0) process.exit(code);
    });
    c.kill('SIGTERM');
  }
  setTimeout(() => process.exit(code), 30_000).unref();
}
process.on('SIGINT', () => stopAll(130));
process.on('SIGTERM', () => stopAll(0));

/** Spawns a Node program and resolves with the first stdout line that `ready` accepts. */
function startProcess(name, script, childEnv, ready) {
  const child = spawn(process.execPath, [script], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((ok, fail) => {
    let isReady = false;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      process.stdout.write(`${line}\n`);
      const v = ready(line);
      if (v && !isReady) {
        isReady = true;
        ok(v);
      }
    });
    child.on('exit', (code, signal) => {
      if (!isReady) {
        // It said why on stderr (a configuration error is its one line): stop the rest, add nothing.
        fail(new StartFailure(code || 1));
        return;
      }
      if (!stopping) {
        log(`${name} stopped (${code ?? signal}); stopping the rest`);
        stopAll(code || 1);
      }
    });
  });
}

/** A child that ended before it was ready; it has already said why. */
class StartFailure extends Error {
  constructor(code) {
    super('a process ended before it was ready');
    this.exitCode = code;
  }
}
/** Waits for a start; when it fails, stops the rest and exits with its code, without a stack trace. */
async function started(promise) {
  try {
    return await promise;
  } catch (err) {
    if (!(err instanceof StartFailure)) log(`could not start: ${err?.message ?? err}`);
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    process.exit(err instanceof StartFailure ? err.exitCode : 1);
  }
}

const hasCalcom = Boolean(env.CALCOM_OAUTH_CLIENT_ID || env.CALCOM_PLATFORM_CLIENT_ID || env.CALCOM_API_URL);
let sandbox = null;
const sandboxCli = join(root, 'test', 'dist', 'calcom-sandbox', 'cli.js');
if (!hasCalcom) {
  if (existsSync(sandboxCli)) {
    const sandboxPort = Number(env.CALCOM_SANDBOX_PORT || 8788);
    // The sandbox's seeded OAuth client must know our exact redirect URI (the server builds it from PUBLIC_URL).
    const redirectUris = [`${publicUrl}/v1/oauth/calcom/callback`, `http://127.0.0.1:${port}/v1/oauth/calcom/callback`].join(',');
    const sandboxEnv = { ...env, CALCOM_SANDBOX_PORT: String(sandboxPort), CALCOM_SANDBOX_OAUTH_REDIRECT_URIS: redirectUris };
    sandbox = await started(startProcess('Cal.com sandbox', sandboxCli, sandboxEnv, (line) => {
      try {
        const msg = JSON.parse(line);
        return msg.sandbox === 'ready' ? msg : null;
      } catch {
        return null;
      }
    }));
    env.CALCOM_API_URL = `${sandbox.url}/v2`;
    env.CALCOM_APP_URL = sandbox.url;
    // The sandbox's seeded OAuth and platform clients (test fixtures, not secrets), so tenants can be
    // connected through OAuth and managed users work offline as they would against Cal.com.
    const seed = await import(pathToFileURL(join(root, 'test', 'dist', 'calcom-sandbox', 'seed.js')).href);
    env.CALCOM_OAUTH_CLIENT_ID = seed.SANDBOX_OAUTH_CLIENT_ID;
    env.CALCOM_OAUTH_CLIENT_SECRET = seed.SANDBOX_OAUTH_CLIENT_SECRET;
    env.CALCOM_PLATFORM_CLIENT_ID = seed.SANDBOX_PLATFORM_CLIENT_ID;
    env.CALCOM_PLATFORM_CLIENT_SECRET = seed.SANDBOX_PLATFORM_CLIENT_SECRET;
    log(`Cal.com sandbox on ${sandbox.url} (no Cal.com credentials configured)`);
  } else {
    log('the Cal.com sandbox is not built; running without it');
  }
}

// The admin console signs people in through OpenID Connect. With no issuer configured, a
// development identity provider (dev-idp/, never in the server bundle) runs beside the server.
let devIdp = null;
if (!env.CALBRIDGE_OIDC_ISSUER) devIdp = await startDevIdp();

await started(startProcess('server', join(root, 'server', 'dist', 'main.js'), { ...env, PORT: String(port) }, (line) => line.includes('Calbridge is running') || null));
if (devIdp?.printPassword) {
  process.stdout.write(
    `Admin console: ${publicUrl}/admin — sign in as admin@demo.test or manager@demo.test with the password ${devIdp.password} ` +
      `(shown once; kept in ${join(dataDir, 'dev-idp.json')})\n`,
  );
} else if (devIdp) {
  process.stdout.write(`Admin console: ${publicUrl}/admin — admin@demo.test or manager@demo.test (password in ${join(dataDir, 'dev-idp.json')})\n`);
}

// Wire the demo tenant to the sandbox: a tenant `demo` whose Cal link is the
// sandbox's seeded demo/intro-call, with Cal.com webhooks pointing at our intake.
if (sandbox) {
  try {
    await seedDemo();
  } catch (err) {
    log(`could not set up the demo tenant: ${err.message}`);
  }
}
// One machine-readable line for scripts and the end-to-end tests.
process.stdout.write(`${JSON.stringify({ calbridge: 'ready', url: `http://localhost:${port}`, sandbox: sandbox?.url ?? null, devIdp: devIdp?.issuer ?? null })}\n`);

/**
 * Starts the development IdP with the console's client registered, and points the server at it.
 * Its password and client secret are generated once (unless CALBRIDGE_DEV_IDP_PASSWORD is set)
 * and kept, owner-only, beside the other generated secrets in the data directory.
 */
async function startDevIdp() {
  const cli = join(root, 'dev-idp', 'dist', 'cli.js');
  if (!existsSync(cli)) {
    log('the development identity provider is not built; the admin console has no sign-in');
    return null;
  }
  const idpPort = Number(env.CALBRIDGE_DEV_IDP_PORT || 8789);
  const file = join(dataDir, 'dev-idp.json');
  let kept = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
  let printPassword = false;
  if (!kept) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    kept = { CALBRIDGE_DEV_IDP_PASSWORD: randomBytes(15).toString('base64url'), CALBRIDGE_OIDC_CLIENT_SECRET: randomBytes(32).toString('base64url') };
    writeFileSync(file, JSON.stringify(kept, null, 2) + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    printPassword = !env.CALBRIDGE_DEV_IDP_PASSWORD;
  }
  const password = env.CALBRIDGE_DEV_IDP_PASSWORD || kept.CALBRIDGE_DEV_IDP_PASSWORD;
  const clientId = env.CALBRIDGE_OIDC_CLIENT_ID || 'calbridge-console';
  const clientSecret = env.CALBRIDGE_OIDC_CLIENT_SECRET || kept.CALBRIDGE_OIDC_CLIENT_SECRET;
  const ready = await started(startProcess('development IdP', cli, {
    ...env,
    CALBRIDGE_DEV_IDP_PORT: String(idpPort),
    CALBRIDGE_DEV_IDP_PASSWORD: password,
    CALBRIDGE_OIDC_CLIENT_ID: clientId,
    CALBRIDGE_OIDC_CLIENT_SECRET: clientSecret,
    CALBRIDGE_DEV_IDP_REDIRECT_URIS: `${publicUrl}/admin/callback`,
    CALBRIDGE_DEV_IDP_POST_LOGOUT_URIS: `${publicUrl}/admin/signed-out`,
  }, (line) => {
    try {
      const msg = JSON.parse(line);
      return msg.devIdp === 'ready' ? msg : null;
    } catch {
      return null;
    }
  }));
  env.CALBRIDGE_OIDC_ISSUER = ready.issuer;
  env.CALBRIDGE_OIDC_CLIENT_ID = clientId;
  env.CALBRIDGE_OIDC_CLIENT_SECRET = clientSecret;
  log(`development identity provider on ${ready.issuer} (no CALBRIDGE_OIDC_ISSUER configured)`);
  return { issuer: ready.issuer, password, printPassword };
}

async function seedDemo() {
  // An operator's token (required with DATABASE_URL) wins; secrets.json exists only in embedded mode.
  const adminToken = env.CALBRIDGE_ADMIN_TOKEN || JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).CALBRIDGE_ADMIN_TOKEN;
  const api = `http://127.0.0.1:${port}`;
  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const origins = [...new Set([publicUrl, `http://localhost:${port}`, `http://127.0.0.1:${port}`])];
  const existing = await fetch(`${api}/v1/admin/tenants/demo`, { headers: admin });
  if (existing.status === 404) {
    const created = await fetch(`${api}/v1/admin/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ slug: 'demo', name: 'Demo client', allowedOrigins: origins, calLink: 'demo/intro-call', timeZone: 'Europe/London' }),
    });
    if (created.status !== 201) throw new Error(`creating the demo tenant answered ${created.status}`);
  } else {
    await fetch(`${api}/v1/admin/tenants/demo`, { method: 'PATCH', headers: admin, body: JSON.stringify({ allowedOrigins: origins }) });
  }
  // The sandbox keeps its state in memory, so its webhook is registered anew with a fresh secret each start.
  const rotated = await fetch(`${api}/v1/admin/tenants/demo/webhook-secret`, { method: 'POST', headers: admin });
  const { secret } = await rotated.json();
  const registered = await fetch(`${sandbox.url}/v2/webhooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sandbox.demoApiKey ?? 'cal_test_sandbox_demo'}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      subscriberUrl: `${api}/v1/webhooks/calcom/demo`,
      triggers: ['BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED', 'BOOKING_REQUESTED', 'BOOKING_REJECTED', 'BOOKING_NO_SHOW_UPDATED'],
      active: true,
      secret,
    }),
  });
  if (!registered.ok) throw new Error(`registering the sandbox webhook answered ${registered.status}`);
  log(`demo tenant "demo" ready: its Cal.com webhooks reach ${api}/v1/webhooks/calcom/demo`);
  await seedNativeDemo(api, admin, origins);
}

// A second demo tenant for native mode: a Platform managed user (no public booking page of its
// own), provisioned through the sandbox's platform client with an intro-call event type. The
// sandbox forgets everything when it stops, so the managed user is provisioned anew each start.
async function seedNativeDemo(api, admin, origins) {
  const slug = 'demo-native';
  const existing = await fetch(`${api}/v1/admin/tenants/${slug}`, { headers: admin });
  if (existing.status === 404) {
    const created = await fetch(`${api}/v1/admin/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ slug, name: 'Demo client (native booking)', allowedOrigins: origins, timeZone: 'Europe/London' }),
    });
    if (created.status !== 201) throw new Error(`creating the ${slug} tenant answered ${created.status}`);
  }
  // Forget the previous run's managed user (gone with the sandbox's memory), then provision one.
  await fetch(`${api}/v1/admin/tenants/${slug}/calcom/managed-user`, { method: 'DELETE', headers: admin });
  const provisioned = await fetch(`${api}/v1/admin/tenants/${slug}/calcom/managed-user`, { method: 'POST', headers: admin, body: '{}' });
  if (provisioned.status !== 201) throw new Error(`provisioning the ${slug} managed user answered ${provisioned.status}`);
  const { managedUser: { username } } = await provisioned.json();
  const eventType = await fetch(`${sandbox.url}/__sandbox/event-types`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, slug: 'intro-call', title: 'Intro call', lengthInMinutes: 30 }),
  });
  if (!eventType.ok) throw new Error(`seeding the ${slug} event type answered ${eventType.status}`);
  const patched = await fetch(`${api}/v1/admin/tenants/${slug}`, {
    method: 'PATCH',
    headers: admin,
    body: JSON.stringify({ allowedOrigins: origins, calLink: `${username}/intro-call` }),
  });
  if (!patched.ok) throw new Error(`updating the ${slug} tenant answered ${patched.status}`);
  log(`demo tenant "${slug}" ready: a managed user booked through native mode`);
}
