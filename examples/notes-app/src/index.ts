// The notes app: tenants, each with its notes in a Durable Object, and a D1 database of tenants and
// activity. Everything under /admin is do-sqlite-dump's API, mounted with one line.

import { dumpApi } from "do-sqlite-dump";
import { NotesObject, type Note } from "./notes";

// do-sqlite-dump: the classes its bindings name must be exported by the Worker.
export { DumpWorkflow, FileStore, JobIndex, RestoreWorkflow, SnapshotWatchdog } from "do-sqlite-dump";
export { NotesObject };

const admin = dumpApi({ base: "/admin" });

const D1_SCHEMA = [
  "CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (datetime('now')))",
  "CREATE TABLE IF NOT EXISTS activity (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), action TEXT NOT NULL, amount INTEGER, ratio REAL)",
];

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/admin" || url.pathname.startsWith("/admin/")) return admin.fetch(request, env, ctx);

    if (url.pathname === "/tenants" && request.method === "POST") {
      const { name } = await request.json<{ name: string }>();
      const id = env.NOTES.newUniqueId();
      await env.NOTES.get(id).createTenant(name);
      await env.DB.batch([...D1_SCHEMA.map((sql) => env.DB.prepare(sql)), env.DB.prepare("INSERT INTO tenants (id, name) VALUES (?, ?)").bind(id.toString(), name)]);
      return Response.json({ id: id.toString(), name }, { status: 201 });
    }

    const match = /^\/tenants\/([0-9a-f]{64})\/notes$/.exec(url.pathname);
    if (match) {
      const notes = env.NOTES.get(env.NOTES.idFromString(match[1]));
      if (request.method === "GET") return Response.json(await notes.listNotes());
      if (request.method === "POST") {
        const note = await request.json<Omit<Note, "id"> & { amount?: string }>();
        const id = await notes.addNote({ title: note.title, body: note.body, score: note.score ?? null, tags: note.tags ?? [] });
        // `amount` is text so that integers beyond 2^53 arrive exact; SQLite reads the literal.
        const amount = note.amount && /^-?\d+$/.test(note.amount) ? note.amount : "NULL";
        await env.DB.prepare(`INSERT INTO activity (tenant_id, action, amount, ratio) VALUES (?, ?, ${amount}, ?)`)
          .bind(match[1], `added note ${id}`, note.score ?? null)
          .run();
        return Response.json({ id }, { status: 201 });
      }
    }
    return Response.json({ error: "not found" }, { status: 404 });
  },
} satisfies ExportedHandler<Env>;
