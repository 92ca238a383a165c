import type { Request, Response } from 'express';

/**
 * The console's cookies. `__Host-` makes the browser refuse them unless they are
 * Secure, host-only and Path=/ (browsers treat http://localhost as secure, so
 * this holds in development too). SameSite=Lax: the identity provider's redirect
 * back is a top-level GET and carries them; a cross-site POST does not.
 */
export const SESSION_COOKIE = '__Host-calbridge_admin';
export const LOGIN_COOKIE = '__Host-calbridge_admin_login';

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{1,200}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

export function setCookie(res: Response, name: string, value: string, maxAgeSeconds: number): void {
  res.append('Set-Cookie', `${name}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Lax`);
}

export function clearCookie(res: Response, name: string): void {
  res.append('Set-Cookie', `${name}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax`);
}
