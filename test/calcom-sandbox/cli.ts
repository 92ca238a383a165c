/**
 * Runs the sandbox as a process: `CALCOM_SANDBOX_PORT` (default 8788),
 * `CALCOM_SANDBOX_HOST` (default 127.0.0.1), `CALCOM_SANDBOX_PUBLIC_URL`,
 * `CALCOM_SANDBOX_OAUTH_REDIRECT_URIS` (comma-separated) and
 * `CALCOM_SANDBOX_WEBHOOK_RETRY_MS`. Prints one JSON line when ready.
 */
import { startSandbox } from './index.js';

const env = process.env;
const port = Number(env['CALCOM_SANDBOX_PORT'] ?? 8788);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`CALCOM_SANDBOX_PORT must be a port number, got ${env['CALCOM_SANDBOX_PORT']}`);
  process.exit(2);
}
const retry = env['CALCOM_SANDBOX_WEBHOOK_RETRY_MS'];
const redirectUris = env['CALCOM_SANDBOX_OAUTH_REDIRECT_URIS']?.split(',').map((s) => s.trim()).filter(Boolean);

const sandbox = await startSandbox({
  port,
  ...(env['CALCOM_SANDBOX_HOST'] ? { host: env['CALCOM_SANDBOX_HOST'] } : {}),
  ...(env['CALCOM_SANDBOX_PUBLIC_URL'] ? { publicUrl: env['CALCOM_SANDBOX_PUBLIC_URL'] } : {}),
  ...(retry ? { webhookRetryDelayMs: Number(retry) } : {}),
  ...(redirectUris?.length ? { oauthRedirectUris: redirectUris } : {}),
});
process.stdout.write(`${JSON.stringify({ sandbox: 'ready', url: sandbox.url, apiUrl: sandbox.apiUrl, appUrl: sandbox.appUrl })}\n`);

let closing = false;
const stop = (signal: string): void => {
  if (closing) return;
  closing = true;
  void sandbox.close().then(() => {
    process.stderr.write(`[calcom-sandbox] stopped on ${signal}\n`);
    process.exit(0);
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
