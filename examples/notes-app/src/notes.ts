// One tenant's notes, in the SQLite database of its own Durable Object. withSqlDump adds the
// methods dumps and restores call (all named sqlDump…); the class is otherwise the app's own.

import { DurableObject } from "cloudflare:workers";
import { withSqlDump } from "do-sqlite-dump";

export interface Note {
  id: number;
  title: string;
  body: string;
  score: number | null;
  tags: string[];
}

export class NotesObject extends withSqlDump(DurableObject)<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS tenant (name TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT NOT NULL,
        score REAL, attachment BLOB, created_at TEXT NOT NULL DEFAULT (datetime('now')));
      CREATE TABLE IF NOT EXISTS tags (note_id INTEGER NOT NULL REFERENCES notes(id), tag TEXT NOT NULL, PRIMARY KEY (note_id, tag)) WITHOUT ROWID;
      CREATE VIRTUAL TABLE IF NOT EXISTS notes_search USING fts5(title, body);
    `);
  }

  createTenant(name: string): void {
    this.ctx.storage.sql.exec("INSERT INTO tenant (name) VALUES (?)", name);
  }

  addNote(note: Omit<Note, "id">): number {
    return this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      const { id } = sql
        .exec<{ id: number }>("INSERT INTO notes (title, body, score) VALUES (?, ?, ?) RETURNING id", note.title, note.body, note.score)
        .one();
      for (const tag of note.tags) sql.exec("INSERT INTO tags (note_id, tag) VALUES (?, ?)", id, tag);
      sql.exec("INSERT INTO notes_search (rowid, title, body) VALUES (?, ?, ?)", id, note.title, note.body);
      return id;
    });
  }

  listNotes(): Note[] {
    const sql = this.ctx.storage.sql;
    return sql
      .exec<{ id: number; title: string; body: string; score: number | null }>("SELECT id, title, body, score FROM notes ORDER BY id")
      .toArray()
      .map((n) => ({ ...n, tags: sql.exec<{ tag: string }>("SELECT tag FROM tags WHERE note_id = ? ORDER BY tag", n.id).toArray().map((t) => t.tag) }));
  }

  search(text: string): number[] {
    return this.ctx.storage.sql.exec<{ rowid: number }>("SELECT rowid FROM notes_search WHERE notes_search MATCH ? ORDER BY rowid", text).toArray().map((r) => r.rowid);
  }
}
