// One instance per dump: plan, chunk steps (one table's chunk, or several small tables) with a breathing
// sleep between, finalize; then (JobWorkflow) tell the caller, and keep the file for its retention period.

import type { WorkflowStep } from "cloudflare:workers";
import { retentionFor, type DumpConfig } from "../shared/config";
import { START_ENCODING } from "../shared/dump-encoding";
import type { DumpOptions } from "../shared/schemas";
import { joinPlanPages } from "../shared/plan-pages";
import type { SourceRef } from "../shared/sources";
import type { DumpPlan, KeyCursor, StorageKind, TablePlan } from "../shared/types";
import { EMPTY_CURSOR, type UploadedPart } from "../storage/file-store";
import { START_POSITION, dumpChunk, finalizeDump, forgetPlanPages, planDump, readPlanPage, type ChunkStepResult } from "./dump-steps";
import { JobWorkflow } from "./job-workflow";
import { expireDump } from "./jobs";
import { WORK_STEP } from "./step-config";

export interface DumpParams {
  dumpId: string;
  database: string;
  /** A configured source (DUMP_SOURCES); without it, the service's own database named `database`. */
  sourceRef?: SourceRef;
  storage: StorageKind;
  options: DumpOptions;
  /** The schedule that started the dump, or null (absent in instances started before schedules existed). */
  schedule?: string | null;
  statusUrl: string;
  downloadUrl: string;
}

export class DumpWorkflow extends JobWorkflow<"dump", { size: number; rows: number; tables: number }> {
  protected readonly kind = "dump";

  protected async runSteps(params: DumpParams, step: WorkflowStep, config: DumpConfig) {
    const breathingMs = params.options.breathingMs ?? config.breathingMs;
    const planned = await step.do("plan", WORK_STEP, () => planDump(this.env, params));
    const { uploadId, snapshot } = planned;
    const plan = "plan" in planned ? planned.plan : await this.readPlanPages(params, step, planned.pages);
    const context = { env: this.env, params, plan, uploadId, config, snapshot };
    let sink = EMPTY_CURSOR;
    let encoding = START_ENCODING;
    const parts: UploadedPart[] = [];
    let rows = 0;
    let position = START_POSITION;
    while (position.tableIndex < plan.tables.length) {
      const name = chunkStepName(plan.tables[position.tableIndex], position.tableIndex, position.chunk);
      const input = { position, sink, encoding, rowsBefore: rows };
      const result: ChunkStepResult = await step.do(name, WORK_STEP, () => dumpChunk(context, input));
      position = result.position;
      sink = result.sink;
      encoding = result.encoding;
      parts.push(...result.parts);
      rows += result.rows;
      if (breathingMs > 0 && position.tableIndex < plan.tables.length) await step.sleep(`breathe · ${name}`, breathingMs);
    }
    const file = await step.do("finalize", WORK_STEP, () => finalizeDump(context, sink, encoding, parts, rows));
    return { size: file.size, rows, tables: plan.tables.length };
  }

  /** A plan too large for one step's result, read back a page per step. */
  private async readPlanPages(params: DumpParams, step: WorkflowStep, count: number): Promise<DumpPlan> {
    const pages: string[] = [];
    for (let page = 1; page <= count; page++) {
      pages.push(await step.do(`plan · page ${page} of ${count}`, WORK_STEP, () => readPlanPage(this.env, params, page)));
    }
    await step.do("plan · forget the pages", WORK_STEP, () => forgetPlanPages(this.env, params));
    return joinPlanPages(pages);
  }

  protected async afterCompletion(params: DumpParams, step: WorkflowStep, config: DumpConfig) {
    await step.sleep("keep the file until its retention ends", retentionFor(params.options.retention, config, Boolean(params.schedule)));
    await step.do("delete the file after retention", WORK_STEP, () => expireDump(this.env, params.dumpId));
  }
}

/** Readable in `wrangler workflows instances describe`, unique within the instance. */
export function chunkStepName(table: TablePlan, tableIndex: number, chunk: number): string {
  const name = table.name.length > 80 ? `${table.name.slice(0, 80)}… #${tableIndex + 1}` : table.name;
  return `table "${name}" · chunk ${chunk}`;
}
