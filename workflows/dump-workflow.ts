// One instance per dump: plan, one step per chunk of each table with a breathing sleep between,
// finalize; then (JobWorkflow) tell the caller, and keep the file for its retention period.

import type { WorkflowStep } from "cloudflare:workers";
import { retentionFor, type DumpConfig } from "../shared/config";
import { START_ENCODING } from "../shared/dump-encoding";
import type { DumpOptions } from "../shared/schemas";
import type { SourceRef } from "../shared/sources";
import type { KeyCursor, StorageKind, TablePlan } from "../shared/types";
import { EMPTY_CURSOR, type UploadedPart } from "../storage/file-store";
import { dumpChunk, finalizeDump, planDump, type ChunkStepResult } from "./dump-steps";
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
    const { plan, uploadId, snapshot } = await step.do("plan", WORK_STEP, () => planDump(this.env, params));
    const context = { env: this.env, params, plan, uploadId, config, snapshot };
    let sink = EMPTY_CURSOR;
    let encoding = START_ENCODING;
    const parts: UploadedPart[] = [];
    let rows = 0;
    for (const [tableIndex, table] of plan.tables.entries()) {
      let after: KeyCursor | null = null;
      let readRows = 0;
      for (let chunk = 1; ; chunk++) {
        const result: ChunkStepResult = await step.do(chunkStepName(table, tableIndex, chunk), WORK_STEP, () =>
          dumpChunk(context, { tableIndex, chunk, after, readRows, sink, encoding, rowsBefore: rows }),
        );
        after = result.lastKey;
        readRows = result.readRows;
        sink = result.sink;
        encoding = result.encoding;
        parts.push(...result.parts);
        rows += result.rows;
        const last = result.done && tableIndex === plan.tables.length - 1;
        if (breathingMs > 0 && !last) {
          await step.sleep(`breathe · ${chunkStepName(table, tableIndex, chunk)}`, breathingMs);
        }
        if (result.done) break;
      }
    }
    const file = await step.do("finalize", WORK_STEP, () => finalizeDump(context, sink, encoding, parts, rows));
    return { size: file.size, rows, tables: plan.tables.length };
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
