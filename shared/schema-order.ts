// Orders tables so that every table comes after the tables its foreign keys point to,
// which lets a restore into an engine that enforces foreign keys succeed.

export interface TableDependencies {
  name: string;
  /** Tables this one references through foreign keys. */
  references: string[];
}

/**
 * Parents first; ties and cycles keep the input order (the creation order).
 * References to unknown tables and self references are ignored.
 */
export function parentsFirst(tables: TableDependencies[]): string[] {
  const known = new Map(tables.map((t, i) => [t.name.toLowerCase(), i]));
  const placed = new Set<number>();
  const visiting = new Set<number>();
  const order: string[] = [];
  const visit = (index: number) => {
    if (placed.has(index) || visiting.has(index)) return; // a cycle: break it here
    visiting.add(index);
    for (const reference of tables[index].references) {
      const parent = known.get(reference.toLowerCase());
      if (parent !== undefined && parent !== index) visit(parent);
    }
    visiting.delete(index);
    placed.add(index);
    order.push(tables[index].name);
  };
  tables.forEach((_, i) => visit(i));
  return order;
}

/**
 * Tables whose rows a dump must not write: internal, platform and local-development tables, and the
 * objects of a dump's snapshot (shared/snapshot.ts). Snapshot triggers sit on user tables, so check
 * a trigger's own name too, not only its table's.
 */
export function isInternalTable(name: string): boolean {
  return /^(sqlite_|_cf_|__miniflare|_dumpsnap_)/i.test(name);
}

/** An index, view or trigger that is internal by its own name or by its table's. */
export function isInternalObject(object: { name: string; tableName: string }): boolean {
  return isInternalTable(object.name) || isInternalTable(object.tableName);
}

/** What an FTS table's CREATE says about where its content lives. */
export function ftsContentMode(createSql: string): "rows" | "rebuild" | "none" {
  const module = /USING\s+([A-Za-z0-9_]+)/i.exec(createSql)?.[1]?.toLowerCase() ?? "";
  if (!module.startsWith("fts")) return "rows";
  const match = /[(,]\s*content\s*=\s*('(?:[^']|'')*'|"(?:[^"]|"")*"|[^\s,)]+)/i.exec(createSql);
  if (!match) return "rows";
  const value = match[1].replace(/^['"]|['"]$/g, "");
  return value === "" ? "none" : "rebuild";
}
