import { describe, expect, it } from "vitest";
import { identifiers, selectTables, unknownNames } from "../../shared/table-selection";
import type { DumpPlan, SchemaObject, TablePlan } from "../../shared/types";
import { tablePlan } from "./table-plan";

function table(name: string): TablePlan {
  return tablePlan({ name, createSql: `CREATE TABLE "${name}"(a)`, columns: ["a"], insertRowid: true, estimatedRows: 1 });
}

const objects: SchemaObject[] = [
  { type: "view", name: "active_users", tableName: "active_users", sql: "CREATE VIEW active_users AS SELECT * FROM Users WHERE active" },
  { type: "view", name: "user_orders", tableName: "user_orders", sql: 'CREATE VIEW user_orders AS SELECT * FROM "users" JOIN [orders] USING(id)' },
  { type: "view", name: "big_orders", tableName: "big_orders", sql: "CREATE VIEW big_orders AS SELECT * FROM user_orders WHERE total > 100" },
  { type: "view", name: "constants", tableName: "constants", sql: "CREATE VIEW constants AS SELECT 'orders' AS label" },
  { type: "trigger", name: "orders_audit", tableName: "orders", sql: "CREATE TRIGGER orders_audit AFTER INSERT ON orders BEGIN SELECT 1; END" },
  { type: "index", name: "users_email", tableName: "users", sql: "CREATE INDEX users_email ON users(email)" },
  { type: "index", name: "orders_user", tableName: "Orders", sql: "CREATE INDEX orders_user ON orders(user_id)" },
];
const plan: DumpPlan = {
  database: "main",
  tables: [table("users"), table("orders"), table("logs")],
  objects,
  hasSequenceTable: false,
  databaseSize: 4096,
};

const names = (p: DumpPlan) => ({ tables: p.tables.map((t) => t.name), objects: p.objects.map((o) => o.name) });

describe("selectTables", () => {
  it("returns the plan unchanged without a choice", () => {
    expect(selectTables(plan, {})).toBe(plan);
  });

  it("keeps chosen tables (any case) with their indexes and triggers, and the views they fully support", () => {
    expect(names(selectTables(plan, { tables: ["USERS"] }))).toEqual({
      tables: ["users"],
      objects: ["active_users", "constants", "users_email"],
    });
  });

  it("drops views on left-out tables, and views built on those views", () => {
    expect(names(selectTables(plan, { excludeTables: ["orders"] }))).toEqual({
      tables: ["users", "logs"],
      objects: ["active_users", "constants", "users_email"],
    });
  });

  it("keeps a view named in tables even when its tables are left out", () => {
    expect(names(selectTables(plan, { tables: ["users", "big_orders"] }))).toEqual({
      tables: ["users"],
      objects: ["active_users", "big_orders", "constants", "users_email"],
    });
  });

  it("excludes views by name, and what is built on them", () => {
    expect(names(selectTables(plan, { excludeTables: ["user_orders"] }))).toEqual({
      tables: ["users", "orders", "logs"],
      objects: ["active_users", "constants", "orders_audit", "users_email", "orders_user"],
    });
  });

  it("lets excludeTables win over tables", () => {
    expect(names(selectTables(plan, { tables: ["users", "orders"], excludeTables: ["Orders"] })).tables).toEqual(["users"]);
  });
});

describe("unknownNames", () => {
  it("lists names that are neither tables nor views, ignoring case", () => {
    expect(unknownNames({ tables: ["USERS", "nope"], excludeTables: ["Active_Users", "gone"] }, ["users", "active_users"])).toEqual([
      "nope",
      "gone",
    ]);
    expect(unknownNames({}, [])).toEqual([]);
  });
});

describe("identifiers", () => {
  it("finds bare and quoted names, lower case, and skips string literals", () => {
    expect(identifiers(`SELECT "My ""T""", \`b\`\`c\`, [d e], x_1 FROM Tbl WHERE s = 'orders'`)).toEqual([
      "select",
      'my "t"',
      "b`c",
      "d e",
      "x_1",
      "from",
      "tbl",
      "where",
      "s",
    ]);
  });
});
