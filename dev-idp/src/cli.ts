// `node dev-idp/dist/cli.js`: what scripts/launch.mjs starts when no CALBRIDGE_OIDC_ISSUER is set.
// Prints one JSON line `{"devIdp":"ready","issuer":…}` when it listens.
import { startDevIdp } from './index.js';

const env = process.env;
const need = (name: string): string => {
  const v = env[name];
  if (!v) {
    process.stderr.write(`dev-idp: ${name} is required\n`);
    process.exit(1);
  }
  return v;
};
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

const idp = await startDevIdp({
  port: Number(env.CALBRIDGE_DEV_IDP_PORT || 8789),
  host: env.CALBRIDGE_DEV_IDP_HOST || '127.0.0.1',
  ...(env.CALBRIDGE_DEV_IDP_ISSUER ? { issuer: env.CALBRIDGE_DEV_IDP_ISSUER } : {}),
  password: need('CALBRIDGE_DEV_IDP_PASSWORD'),
  clientId: need('CALBRIDGE_OIDC_CLIENT_ID'),
  clientSecret: need('CALBRIDGE_OIDC_CLIENT_SECRET'),
  redirectUris: list(need('CALBRIDGE_DEV_IDP_REDIRECT_URIS')),
  postLogoutRedirectUris: list(need('CALBRIDGE_DEV_IDP_POST_LOGOUT_URIS')),
});
process.stdout.write(`${JSON.stringify({ devIdp: 'ready', issuer: idp.issuer })}\n`);
const stop = () => void idp.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
