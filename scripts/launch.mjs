// Starts what `npm start` runs, from already-built packages: the Cal.com sandbox
// (when no Cal.com credentials are configured), the server, and the demo tenant.
// The end-to-end tests start the product through this same file.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { root, log } from './lib.mjs';

const env = { ...process.env };
const port = Number(env.PORT || 8787);
const dataDir = resolve(root, env.CALBRIDGE_DATA_DIR || '.calbridge');
env.CALBRIDGE_DATA_DIR = dataDir;
const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/$/, '');
const children = [];

function stopAll(code = 0) {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 200).unref();
}
process.on('SIGINT', () => stopAll(130));
process.on('SIGTERM', () => stopAll(0));

/** Spawns a Node program and resolves with the first stdout line that `ready` accepts. */
function startProcess(name, script, childEnv, ready) {
  const child = spawn(process.execPath, [script], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((ok, fail) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      process.stdout.write(`${line}\n`);
      const v = ready(line);
      if (v) ok(v);
    });
    child.on('exit', (code, signal) => {
      fail(new Error(`${name} exited (${code ?? signal}) before it was ready`));
      if (!stopping) {
        log(`${name} stopped (${code ?? signal}); stopping the rest`);
        stopAll(code || 1);
      }
    });
  });
}
let stopping = false;
process.on('exit', () => {
  stopping = true;
});

const hasCalcom = Boolean(env.CALCOM_OAUTH_CLIENT_ID || env.CALCOM_PLATFORM_CLIENT_ID || env.CALCOM_API_URL);
let sandbox = null;
const sandboxCli = join(root, 'test', 'dist', 'calcom-sandbox', 'cli.js');
if (!hasCalcom) {
  if (existsSync(sandboxCli)) {
    const sandboxPort = Number(env.CALCOM_SANDBOX_PORT || 8788);
    sandbox = await startProcess('Cal.com sandbox', sandboxCli, { ...env, CALCOM_SANDBOX_PORT: String(sandboxPort) }, (line) => {
      try {
        const msg = JSON.parse(line);
        return msg.sandbox === 'ready' ? msg : null;
      } catch {
        return null;
      }
    });
    env.CALCOM_API_URL = `${sandbox.url}/v2`;
    env.CALCOM_APP_URL = sandbox.url;
    log(`Cal.com sandbox on ${sandbox.url} (no Cal.com credentials configured)`);
  } else {
    log('the Cal.com sandbox is not built; running without it');
  }
}

await startProcess('server', join(root, 'server', 'dist', 'main.js'), { ...env, PORT: String(port) }, (line) => line.includes('Calbridge is running') || null);

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
process.stdout.write(`${JSON.stringify({ calbridge: 'ready', url: `http://localhost:${port}`, sandbox: sandbox?.url ?? null })}\n`);

async function seedDemo() {
  const secrets = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8'));
  const adminToken = env.CALBRIDGE_ADMIN_TOKEN || secrets.CALBRIDGE_ADMIN_TOKEN;
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
}
