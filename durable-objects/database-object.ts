// A SQLite database in a Durable Object: one instance per database name.
// Serves the query API and the dump pipeline's plan and chunk reads.

import { DurableObject } from "cloudflare:workers";
import type { SqlDatabase } from "../shared/sql-handle";
import {
  chunkSelect,
  insertColumns,
  insertPrefix,
  largeValueLiteral,
  largeValueQueries,
  rowStatements,
  type SequenceRow,
} from "../shared/dump-sql";
import { LARGE_VALUE_BYTES } from "../shared/sql-text";
import { realLiteral } from "../shared/real-literal";
import { ftsContentMode, isInternalTable, parentsFirst } from "../shared/schema-order";
import type { ChunkRequest, ChunkResult, DumpPlan, KeyCursor, SchemaObject, TablePlan } from "../shared/types";
import { restoreMarkerKey, type ApplyOutcome, type BeginOutcome, type RestoreBatch, type RestoreMode } from "../shared/restore-record";

export type SqlParam = string | number | null;
export type QueryRow = Record<string, unknown>;
/** SQL errors come back as values so that the API can tell them from failures of the call itself. */
export type QueryOutcome<T> = { result: T; error: null } | { result: null; error: string };

export interface Statement {
  sql: string;
  params?: SqlParam[];
}

export class DatabaseObject extends DurableObject<Env> {
  private get sql() {
    return this.ctx.storage.sql;
  }

  /** The handle the core's functions take. */
  protected get database(): SqlDatabase {
    return this.ctx.storage;
  }

  query(statement: Statement): QueryOutcome<QueryRow[]> {
    try {
      return { result: this.run(statement), error: null };
    } catch (error) {
      return { result: null, error: messageOf(error) };
    }
  }

  /** All statements or none. */
  transaction(statements: Statement[]): QueryOutcome<QueryRow[][]> {
    try {
      return { result: this.ctx.storage.transactionSync(() => statements.map((s) => this.run(s))), error: null };
    } catch (error) {
      return { result: null, error: messageOf(error) };
    }
  }

  databaseSize(): number {
    return this.sql.databaseSize;
  }

  plan(database: string): DumpPlan {
    const listed = this.sql
      .exec<{ name: string; type: string; wr: number; strict: number }>(
        "SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main'",
      )
      .toArray();
    const kinds = new Map(listed.map((t) => [t.name, t]));
    const master = this.sql
      .exec<{ type: string; name: string; tbl_name: string; sql: string | null }>(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid",
      )
      .toArray();
    const tableRows = master.filter((m) => {
      const kind = kinds.get(m.name)?.type;
      return m.type === "table" && m.sql && !isInternalTable(m.name) && (kind === "table" || kind === "virtual");
    });
    const tables = new Map(tableRows.map((m) => [m.name, this.tablePlan(m.name, m.sql!, kinds.get(m.name)!)]));
    const order = parentsFirst(
      tableRows.map((m) => ({
        name: m.name,
        references: this.sql
          .exec<{ table: string }>('SELECT "table" FROM pragma_foreign_key_list(?)', m.name)
          .toArray()
          .map((r) => r.table),
      })),
    );
    // Views first, then triggers, then indexes, as sqlite3's .dump writes them.
    const typeRank = { view: 0, trigger: 1, index: 2 } as const;
    const objects: SchemaObject[] = master
      .filter((m) => (m.type === "index" || m.type === "view" || m.type === "trigger") && m.sql)
      .filter((m) => !isInternalTable(m.tbl_name) && (m.type === "view" || tables.has(m.tbl_name)))
      .map((m) => ({ type: m.type as SchemaObject["type"], name: m.name, tableName: m.tbl_name, sql: m.sql! }))
      .sort((a, b) => typeRank[a.type] - typeRank[b.type]);
    return {
      database,
      tables: order.map((name) => tables.get(name)!),
      objects,
      hasSequenceTable: master.some((m) => m.name === "sqlite_sequence"),
      databaseSize: this.sql.databaseSize,
    };
  }

  private tablePlan(name: string, createSql: string, listed: { type: string; wr: number; strict: number }): TablePlan {
    const columns = this.sql
      .exec<{ name: string; type: string; pk: number; hidden: number }>(
        "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid",
        name,
      )
      .toArray();
    const virtual = listed.type === "virtual";
    const withoutRowid = listed.wr === 1;
    const inserted = columns.filter((c) => c.hidden === 0);
    const pkColumns = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    const names = new Set(columns.map((c) => c.name.toLowerCase()));
    const rowidAlias =
      !withoutRowid && !virtual && pkColumns.length === 1 && pkColumns[0].type.toUpperCase() === "INTEGER";
    const content = virtual ? ftsContentMode(createSql) : "rows";
    const table: TablePlan = {
      name,
      createSql,
      virtual,
      strict: listed.strict === 1,
      columns: inserted.map((c) => c.name),
      columnTypes: inserted.map((c) => c.type.toUpperCase()),
      insertRowid: false,
      key: { kind: "rowid", column: "rowid" },
      content,
      estimatedRows: 0,
    };
    if (withoutRowid) {
      table.key = { kind: "primaryKey", columns: pkColumns.map((c) => c.name) };
    } else {
      const rowidName = ["rowid", "_rowid_", "oid"].find((n) => !names.has(n));
      if (!rowidName) throw new Error(`table ${name}: columns named rowid, _rowid_ and oid hide its rowid`);
      table.key = { kind: "rowid", column: rowidName };
      table.insertRowid = !rowidAlias && (!virtual || /USING\s+fts/i.test(createSql));
    }
    if (content === "rows") this.estimate(table);
    return table;
  }

  /** A cheap row estimate: the rowid range where there is one (two index probes), else a count. */
  private estimate(table: TablePlan): void {
    const from = `FROM "${table.name.replaceAll('"', '""')}"`;
    if (table.key.kind === "rowid" && !table.virtual) {
      const range = this.sql
        .exec<{ lo: number | null; hi: number | null }>(`SELECT min(rowid) AS lo, max(rowid) AS hi ${from}`)
        .one();
      if (range.lo !== null && range.hi !== null) {
        table.minRowid = range.lo;
        table.maxRowid = range.hi;
        table.estimatedRows = range.hi - range.lo + 1;
      }
      return;
    }
    table.estimatedRows = this.sql.exec<{ n: number }>(`SELECT count(*) AS n ${from}`).one().n;
  }

  /** The next rows of a table as INSERT statements. Synchronous, so no other request interleaves. */
  readChunk(request: ChunkRequest): ChunkResult {
    const { table, after, maxRows, maxBytes } = request;
    const select = chunkSelect(table, after, maxRows);
    const prefix = insertPrefix(table);
    const parts: string[] = [];
    let bytes = 0;
    let rows = 0;
    let lastKey: KeyCursor | null = after;
    let stoppedEarly = false;
    const columns = insertColumns(table);
    for (const raw of this.sql.exec(select.sql, ...select.params).raw()) {
      const key = raw.slice(0, select.keyWidth) as KeyCursor;
      const literals = raw.slice(select.keyWidth).map((v, i) => {
        if (v === null) return this.largeValueLiteral(table, columns[i], key);
        return typeof v === "number" ? realLiteral(v) : (v as string);
      });
      const text = rowStatements(table, prefix, literals, key);
      parts.push(text);
      bytes += text.length;
      rows += 1;
      lastKey = key;
      if (bytes >= maxBytes) {
        stoppedEarly = true;
        break;
      }
    }
    return { sql: parts.join(""), rows, bytes, lastKey, done: !stoppedEarly && rows < maxRows };
  }

  /** The literal of a TEXT or BLOB too large for quote(), read as hex in pieces. */
  private largeValueLiteral(table: TablePlan, column: string, key: KeyCursor): string {
    const queries = largeValueQueries(table, column, key);
    const { type, bytes } = this.sql.exec<{ type: string; bytes: number }>(queries.info).one();
    let hex = "";
    for (let start = 1; start <= bytes; start += LARGE_VALUE_BYTES) {
      hex += this.sql.exec<{ piece: string }>(queries.piece, start, LARGE_VALUE_BYTES).one().piece;
    }
    return largeValueLiteral(type, hex);
  }

  /** Names a dump's tables/excludeTables options may use: user tables and views. */
  tableAndViewNames(): string[] {
    return this.sql
      // pragma_table_list tells FTS shadow tables apart from user tables, sqlite_master does not.
      .exec<{ name: string }>(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual', 'view')",
      )
      .toArray()
      .map((row) => row.name)
      .filter((name) => !isInternalTable(name));
  }

  /** sqlite_sequence rows, with exact integers. */
  sequences(): SequenceRow[] {
    return this.sql
      .exec<{ name: string; seq: string }>("SELECT name, quote(seq) AS seq FROM sqlite_sequence ORDER BY rowid")
      .toArray();
  }

  private run(statement: Statement): QueryRow[] {
    const cursor = this.sql.exec(statement.sql, ...(statement.params ?? []));
    return cursor.toArray().map(jsonFriendlyRow);
  }

  // ---- restores (a restore Workflow writes a dump into this database one batch at a time) ----

  /** User tables (plain and virtual) and views; internal, platform and FTS shadow tables do not count. */
  userObjectCount(): number {
    const tables = this.sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual')")
      .toArray()
      .filter((t) => !isInternalTable(t.name)).length;
    const views = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'view'").one().n;
    return tables + views;
  }

  /**
   * Readies this database for restore `restoreId`: mode "empty" checks that it has no user tables
   * or views, mode "replace" drops them all. Records position 0, so a retried call does nothing.
   */
  async beginRestore(restoreId: string, mode: RestoreMode): Promise<BeginOutcome> {
    const key = restoreMarkerKey(restoreId);
    if (this.ctx.storage.kv.get(key) !== undefined) return { ok: true, dropped: 0 };
    if (mode === "empty") {
      const count = this.userObjectCount();
      if (count > 0) {
        return { ok: false, reason: `the target database has ${count} tables or views; restore with mode "replace" to drop them first` };
      }
      this.ctx.storage.kv.put(key, 0);
      return { ok: true, dropped: 0 };
    }
    return this.withoutForeignKeys((): BeginOutcome => {
      const dropped = this.ctx.storage.transactionSync(() => {
        const count = this.dropUserObjects();
        this.ctx.storage.kv.put(key, 0);
        return count;
      });
      return { ok: true, dropped };
    }, (reason) => ({ ok: false, reason }));
  }

  /**
   * Runs one batch of a restore in one transaction: all of it or none. The position recorded with
   * it makes a retried batch a no-op and refuses batches out of order.
   */
  async applyStatements(batch: RestoreBatch): Promise<ApplyOutcome> {
    const run = (): ApplyOutcome => {
      const key = restoreMarkerKey(batch.restoreId);
      const position = this.ctx.storage.kv.get<number>(key);
      if (position === batch.to) return { status: "already-applied" };
      if (position !== batch.from) {
        const where = position === undefined ? "has no record of this restore" : `is at byte ${position}`;
        return { status: "failed", index: -1, message: `the batch starts at byte ${batch.from} but the target ${where}` };
      }
      let index = -1;
      let executed = 0;
      try {
        this.ctx.storage.transactionSync(() => {
          for (index = 0; index < batch.statements.length; index++) {
            const statement = batch.statements[index];
            if (statement.onlyIfTableExists && !this.tableExists(statement.onlyIfTableExists)) continue;
            // Read every cursor to its end: a statement left half-read breaks the next one.
            for (const _row of this.sql.exec(statement.sql)) void _row;
            executed++;
          }
          index = -1;
          this.ctx.storage.kv.put(key, batch.to);
        });
        return { status: "applied", statements: executed };
      } catch (error) {
        return { status: "failed", index, message: messageOf(error) };
      }
    };
    if (batch.foreignKeys) return run();
    return this.withoutForeignKeys(run, (message) => ({ status: "failed", index: -1, message }));
  }

  /** Forgets a finished or failed restore's position. */
  endRestore(restoreId: string): void {
    this.ctx.storage.kv.delete(restoreMarkerKey(restoreId));
  }

  private tableExists(name: string): boolean {
    return this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
  }

  /** Drops every user trigger, view and table (virtual tables take their shadow tables with them). */
  private dropUserObjects(): number {
    const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
    const objects = this.sql
      .exec<{ type: string; name: string; tbl_name: string }>(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY type = 'view'",
      )
      .toArray()
      .filter((o) => !isInternalTable(o.tbl_name));
    const tables = this.sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual')")
      .toArray()
      .filter((t) => !isInternalTable(t.name));
    for (const o of objects) this.sql.exec(`DROP ${o.type.toUpperCase()} IF EXISTS ${quote(o.name)}`);
    for (const t of tables) this.sql.exec(`DROP TABLE IF EXISTS ${quote(t.name)}`);
    return objects.length + tables.length;
  }

  /**
   * Runs `work` with foreign keys off, as sqlite3 reads a .dump (which starts with
   * PRAGMA foreign_keys=OFF): a file may insert children before their parents, in different steps.
   * Durable Objects enforce foreign keys when each event's implicit transaction commits, and the
   * pragma changes nothing inside a transaction, so: no other event runs meanwhile, the pragma comes
   * before any write, and enforcement is restored after the writes are committed by sync().
   */
  private async withoutForeignKeys<T>(work: () => T, refused: (reason: string) => T): Promise<T> {
    return this.ctx.blockConcurrencyWhile(async () => {
      this.sql.exec("PRAGMA foreign_keys=OFF");
      if (this.foreignKeysEnforced()) return refused("foreign keys could not be turned off for the restore");
      try {
        return work();
      } finally {
        await this.ctx.storage.sync();
        this.sql.exec("PRAGMA foreign_keys=ON");
        if (!this.foreignKeysEnforced()) console.error(JSON.stringify({ event: "foreign_keys_not_restored" }));
      }
    });
  }

  private foreignKeysEnforced(): boolean {
    return this.sql.exec<{ foreign_keys: number }>("PRAGMA foreign_keys").one().foreign_keys === 1;
  }
}

/** BLOBs become arrays of byte values, as D1 returns them. */
function jsonFriendlyRow(row: Record<string, SqlStorageValue>): QueryRow {
  const out: QueryRow = {};
  for (const [name, value] of Object.entries(row)) {
    out[name] = value instanceof ArrayBuffer ? Array.from(new Uint8Array(value)) : value;
  }
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
