// `npm run serve`: the built server for production. No Cal.com sandbox, no embedded database,
// no generated secrets: it refuses to start unless DATABASE_URL and the secrets are set
// (server/src/config.ts then checks their form). Runs in this process, so signals reach the
// server's own shutdown (containers: this is PID 1). Build first: `npm run build` (the image does).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log, root } from './lib.mjs';

// PUBLIC_URL too: OAuth redirects, webhook URLs and the widget's links are built from it (its default is localhost).
const REQUIRED = ['DATABASE_URL', 'CALBRIDGE_ENCRYPTION_KEYS', 'CALBRIDGE_ADMIN_TOKEN', 'PUBLIC_URL'];
const missing = REQUIRED.filter((name) => !process.env[name]);
if (missing.length) {
  log(`serve: refusing to start without ${missing.join(', ')} (production runs on your PostgreSQL with your secrets; \`npm start\` is the local demo)`);
  process.exit(1);
}
// Credentials come in pairs; a half-configured Cal.com client is refused by config.ts too.
if (!process.env.CALCOM_OAUTH_CLIENT_ID && !process.env.CALCOM_PLATFORM_CLIENT_ID) {
  log('serve: no Cal.com client configured (CALCOM_OAUTH_CLIENT_ID or CALCOM_PLATFORM_CLIENT_ID): tenants cannot connect Cal.com until one is');
}

const main = join(root, 'server', 'dist', 'main.js');
const widget = join(root, 'widget', 'dist', 'widget.js');
// The console is served from CALBRIDGE_ADMIN_DIR when set (config.ts checks nothing there: a missing
// build would only show as 404s at /admin, so it is caught here, before anyone signs in).
const consoleIndex = join(process.env.CALBRIDGE_ADMIN_DIR || join(root, 'admin', 'dist'), 'index.html');
for (const [file, what] of [[main, 'the server'], [widget, 'the widget'], [consoleIndex, 'the admin console']]) {
  if (!existsSync(file)) {
    log(`serve: ${what} is not built (${file} is missing): run \`npm run build\` first`);
    process.exit(1);
  }
}
process.env.NODE_ENV ??= 'production';
await import(pathToFileURL(main).href);
