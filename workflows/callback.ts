// Posting a job's outcome to the URL given when it started, signed when a secret is configured.

import { messageOf } from "../shared/error-message";

export interface DeliveryAttempt {
  ok: boolean;
  status: number | null;
  error: string | null;
}

/** Hex HMAC-SHA256 of the raw body, as sent in X-Dump-Signature ("sha256=<hex>"). */
export async function signBody(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body));
  return [...new Uint8Array(signature)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** POSTs a dump's or a restore's outcome as JSON, signed when a secret is configured. */
export async function postCallback(url: string, payload: object, secret?: string): Promise<DeliveryAttempt> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "User-Agent": "do-sqlite-dump",
    "X-Dump-Timestamp": new Date().toISOString(),
  };
  if (secret) headers["X-Dump-Signature"] = `sha256=${await signBody(secret, body)}`;
  try {
    const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
    await response.body?.cancel();
    return response.ok
      ? { ok: true, status: response.status, error: null }
      : { ok: false, status: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, status: null, error: messageOf(error) };
  }
}
