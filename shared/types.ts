// Types shared by the API, the Workflow and the Durable Objects.

export type StorageKind = "r2" | "do";

/** How a table's rows are found again, in order, a chunk at a time. */
export type TableKey =
  | { kind: "rowid"; column: string } // rowid, _rowid_ or oid: whichever no real column shadows
  | { kind: "primaryKey"; columns: string[] }; // WITHOUT ROWID tables

/** What the dump does with a table's content. */
export type ContentMode =
  | "rows" // INSERT every row
  | "rebuild" // external-content FTS: rebuild from the content table after all data
  | "none"; // contentless FTS: nothing can be read back

export interface TablePlan {
  name: string;
  createSql: string;
  virtual: boolean;
  strict: boolean;
  /** Columns written by INSERT, in order (generated and hidden columns excluded). */
  columns: string[];
  /** Declared type of each column in `columns`, upper case. */
  columnTypes: string[];
  /** Write the rowid as the first value (rowid tables without an INTEGER PRIMARY KEY, FTS tables). */
  insertRowid: boolean;
  key: TableKey;
  content: ContentMode;
  estimatedRows: number;
  /** Rowid range, for progress within rowid tables. */
  minRowid?: number;
  maxRowid?: number;
}

export interface SchemaObject {
  type: "index" | "view" | "trigger";
  name: string;
  tableName: string;
  sql: string;
}

export interface DumpPlan {
  database: string;
  tables: TablePlan[];
  /** Indexes, views and triggers, written after all data in their creation order. */
  objects: SchemaObject[];
  hasSequenceTable: boolean;
  databaseSize: number;
}

/** A position in a table: the last key written. Strings are SQL literals; numbers are REAL key values. */
export type KeyCursor = Array<string | number>;

export interface ChunkRequest {
  table: TablePlan;
  /** Read the table as of this snapshot (shared/snapshot.ts); `tableIndex` is the table's place in the plan. */
  snapshot?: { id: string; tableIndex: number };
  after: KeyCursor | null;
  maxRows: number;
  maxBytes: number;
}

export interface ChunkResult {
  /** The rows' statements as UTF-8. */
  sql: Uint8Array;
  rows: number;
  bytes: number;
  lastKey: KeyCursor | null;
  done: boolean;
}

export interface DumpProgress {
  currentTable: string | null;
  processedTables: number;
  totalTables: number;
  rowsDumped: number;
  bytesWritten: number;
  percent: number;
}
