// Which tables and schema objects a dump includes, from the tables/excludeTables options.
//
// Rules: indexes and triggers follow the table they belong to. A view is kept when no table or view that
// is left out appears by name in its definition, or when it is named in `tables` itself.

import type { DumpPlan } from "./types";

export interface TableChoice {
  tables?: string[];
  excludeTables?: string[];
}

/** Names in the choice that are neither a table nor a view of the database (case-insensitive). */
export function unknownNames(choice: TableChoice, available: string[]): string[] {
  const known = new Set(available.map((n) => n.toLowerCase()));
  return [...(choice.tables ?? []), ...(choice.excludeTables ?? [])].filter((n) => !known.has(n.toLowerCase()));
}

export function selectTables(plan: DumpPlan, choice: TableChoice): DumpPlan {
  if (!choice.tables && !choice.excludeTables) return plan;
  const wanted = choice.tables ? new Set(choice.tables.map((n) => n.toLowerCase())) : null;
  const excluded = new Set((choice.excludeTables ?? []).map((n) => n.toLowerCase()));
  const keep = (name: string) => (!wanted || wanted.has(name.toLowerCase())) && !excluded.has(name.toLowerCase());
  const tables = plan.tables.filter((t) => keep(t.name));
  const leftOut = new Set(plan.tables.filter((t) => !keep(t.name)).map((t) => t.name.toLowerCase()));
  const views = plan.objects.filter((o) => o.type === "view");
  // Dropping a view can drop views built on it, so repeat until nothing changes.
  let changed = true;
  while (changed) {
    changed = false;
    for (const view of views) {
      const key = view.name.toLowerCase();
      if (leftOut.has(key)) continue;
      const explicit = wanted?.has(key) && !excluded.has(key);
      if (excluded.has(key) || (!explicit && identifiers(view.sql).some((id) => leftOut.has(id)))) {
        leftOut.add(key);
        changed = true;
      }
    }
  }
  const kept = new Set(tables.map((t) => t.name.toLowerCase()));
  const objects = plan.objects.filter((o) =>
    o.type === "view" ? !leftOut.has(o.name.toLowerCase()) : kept.has(o.tableName.toLowerCase()),
  );
  return { ...plan, tables, objects };
}

/** Every identifier-like token of a statement, lower case, quotes removed. */
export function identifiers(sql: string): string[] {
  const found: string[] = [];
  const pattern = /"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\]|'(?:[^']|'')*'|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)/g;
  for (const match of sql.matchAll(pattern)) {
    const name = match[1]?.replaceAll('""', '"') ?? match[2]?.replaceAll("``", "`") ?? match[3] ?? match[4];
    if (name !== undefined) found.push(name.toLowerCase());
  }
  return found;
}
