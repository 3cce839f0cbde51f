import type { TablePlan } from "../../shared/types";

/** A TablePlan for pure tests: a plain rowid table unless the fields given say otherwise. */
export function tablePlan(plan: Partial<TablePlan> & Pick<TablePlan, "name" | "createSql" | "columns">): TablePlan {
  return {
    virtual: false,
    strict: false,
    columnTypes: plan.columns.map(() => ""),
    insertRowid: false,
    key: { kind: "rowid", column: "rowid" },
    content: "rows",
    estimatedRows: 0,
    ...plan,
  };
}
