// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- oidc-provider ships no types; the server typechecks this source too and must see them
/// <reference path="./oidc-provider.d.ts" />
import { generateKeyPairSync, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider from 'oidc-provider';

/**
 * A development OpenID Provider for the admin console: `npm start` runs it when
 * no CALBRIDGE_OIDC_ISSUER is configured, and the end-to-end tests sign in
 * through it. It is the real `oidc-provider` (a certified OpenID Provider), with
 * two seeded people and a login page of our own; it keeps everything in memory.
 * Never part of the server bundle (its own workspace package).
 */

export interface DevPerson {
  sub: string;
  email: string;
  name: string;
  groups: string[];
}

/** The seeded people (issue 14). Their password is the one given at start. */
export const DEV_PEOPLE: readonly DevPerson[] = [
  { sub: 'dev-admin', email: 'admin@demo.test', name: 'Demo Admin', groups: ['calbridge:admin'] },
  { sub: 'dev-manager', email: 'manager@demo.test', name: 'Demo Manager', groups: ['calbridge:tenant:demo:manager'] },
];

export interface DevIdpOptions {
  port: number;
  host?: string;
  /** Public origin of the IdP; default http://localhost:<port>. */
  issuer?: string;
  password: string;
  clientId: string;
  clientSecret: string;
  /** The console's callback URLs (PUBLIC_URL/admin/callback). */
  redirectUris: string[];
  /** Where the console lands after sign-out (PUBLIC_URL/admin/signed-out). */
  postLogoutRedirectUris: string[];
  /** People besides the seeded ones (tests). */
  people?: readonly DevPerson[];
}

export interface DevIdp {
  issuer: string;
  close(): Promise<void>;
}

const CSS = readFileSync(new URL('../login.css', import.meta.url), 'utf8');

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const sameSecret = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Calbridge development sign-in</title><link rel="stylesheet" href="/login.css"></head>
<body><main><p class="badge">Development identity provider</p><h1>${esc(title)}</h1>${body}</main></body></html>`;
}

/** The login form: real labels, `autocomplete` for password managers (WCAG 2.2 SC 3.3.8), nothing to transcribe. */
export function loginPage(uid: string, email = '', error?: string): string {
  const err = error ? `<p class="error" role="alert" id="login-error">${esc(error)}</p>` : '';
  const describedBy = error ? ' aria-describedby="login-error"' : '';
  return layout(
    'Sign in to Calbridge',
    `${err}<form method="post" action="/interaction/${esc(uid)}/login" novalidate>
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" inputmode="email" required value="${esc(email)}"${describedBy}${error ? ' aria-invalid="true"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}>
<button type="submit">Sign in</button>
</form>`,
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startDevIdp(options: DevIdpOptions): Promise<DevIdp> {
  const host = options.host ?? '127.0.0.1';
  const people = [...DEV_PEOPLE, ...(options.people ?? [])];
  let issuer = options.issuer?.replace(/\/$/, '') ?? '';

  const server: Server = createServer();
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port, host, () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  issuer ||= `http://localhost:${port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
  const formTargets = [...new Set(options.redirectUris.map((u) => new URL(u).origin))].join(' ');
  const csp = `default-src 'none'; style-src 'self'; form-action 'self' ${formTargets}; frame-ancestors 'none'; base-uri 'none'`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // The roles travel in `groups` (CALBRIDGE_OIDC_ROLES_CLAIM's default), released with the openid scope.
    claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    // Short lives: a development IdP keeps everything in memory.
    ttl: { Interaction: 600, Grant: 3600, Session: 8 * 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: { body: string; set(k: string, v: string): void }, form: string) => {
          ctx.set('Content-Security-Policy', csp);
          ctx.body = layout('Sign out', `${form}<p>Sign out of the development identity provider too?</p><button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`);
        },
      },
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, id: string) => {
      const p = people.find((x) => x.sub === id);
      if (!p) return undefined;
      return { accountId: p.sub, claims: () => ({ sub: p.sub, email: p.email, email_verified: true, name: p.name, groups: p.groups }) };
    },
    // The console is first-party: no consent screen; the grant covers what it asks for.
    loadExistingGrant: async (ctx: {
      oidc: { client: { clientId: string }; session: { accountId: string; grantIdFor(id: string): string | undefined }; provider: { Grant: { find(id: string): Promise<unknown> } & (new (i: { clientId: string; accountId: string }) => { addOIDCScope(s: string): void; addOIDCClaims(c: string[]): void; save(): Promise<string> }) } };
    }) => {
      const { client, session, provider: p } = ctx.oidc;
      const existing = session.grantIdFor(client.clientId);
      if (existing) {
        const found = await p.Grant.find(existing);
        if (found) return found;
      }
      const grant = new p.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid email profile');
      grant.addOIDCClaims(['sub', 'groups', 'email', 'email_verified', 'name']);
      await grant.save();
      return grant;
    },
    renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = layout('Sign-in error', `<p>${esc(out.error ?? 'error')}: ${esc(out.error_description ?? '')}</p>`);
    },
  });
  if (issuer.startsWith('https:')) provider.proxy = true;
  const handle = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> {
    const send = (status: number, html: string) => {
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(html);
    };
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return send(400, layout('Sign-in error', '<p>This sign-in has expired; start again.</p>'));
    if (req.method === 'GET' && !action) return send(200, loginPage(uid));
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const email = (form.get('email') ?? '').trim().toLowerCase();
      const person = people.find((p) => p.email === email);
      const passwordOk = sameSecret(form.get('password') ?? '', options.password);
      if (!person || !passwordOk) return send(401, loginPage(uid, email, 'That email and password do not match.'));
      await provider.interactionFinished(req, res, { login: { accountId: person.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    send(404, layout('Not found', '<p>Not found.</p>'));
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname === '/login.css') {
      res.writeHead(200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'max-age=300' });
      res.end(CSS);
      return;
    }
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/.exec(url.pathname);
    if (m) {
      interaction(req, res, m[1]!, m[2]).catch(() => {
        if (!res.headersSent) {
          res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp });
          res.end(layout('Sign-in error', '<p>This sign-in has expired; start again from the console.</p>'));
        } else res.end();
      });
      return;
    }
    handle(req, res);
  });

  return {
    issuer,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
