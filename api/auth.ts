// Bearer-token auth for every route except /health.

import { StatusError, type IRequest } from "itty-router";

const encoder = new TextEncoder();

export async function requireAdmin(request: IRequest, env: Env): Promise<void> {
  const expected = env.ADMIN_AUTHORIZATION_TOKEN;
  if (!expected) {
    throw new StatusError(500, "ADMIN_AUTHORIZATION_TOKEN is not configured: set it with `wrangler secret put ADMIN_AUTHORIZATION_TOKEN`");
  }
  const header = request.headers.get("Authorization");
  if (!header) throw new StatusError(401, "missing Authorization: Bearer <token> header");
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match || !(await sameSecret(match[1], expected))) throw new StatusError(401, "invalid token");
}

/** Constant-time comparison of two strings of any length (compares their SHA-256 digests). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}
