// Bindings that only the workers tests have (vitest.config.ts): user classes and D1 databases to dump.

declare namespace Cloudflare {
  interface Env {
    STARBASE_LIKE: DurableObjectNamespace<import("./classes/starbase-like").StarbaseLike>;
    ANALYTICS: D1Database;
    ANALYTICS_COPY: D1Database;
  }
}
