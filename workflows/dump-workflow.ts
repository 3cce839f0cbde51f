// One instance per dump: plan, one step per chunk of each table with a breathing sleep between,
// finalize, then tell the caller and keep the file for its retention period.

import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { CALLBACK_STEP, WORK_STEP, isEngineInterruption } from "./step-config";
import { readConfig, retentionFor } from "../shared/config";
import type { DumpOptions } from "../shared/schemas";
import type { KeyCursor, StorageKind, TablePlan } from "../shared/types";
import { deliverCallback, dumpChunk, expireDump, finalizeDump, planDump, recordFailure, type ChunkStepResult } from "./dump-steps";
import { EMPTY_CURSOR, type UploadedPart } from "./sinks";
import { START_ENCODING } from "../shared/dump-encoding";
import { messageOf } from "../shared/error-message";

export interface DumpParams {
  dumpId: string;
  database: string;
  storage: StorageKind;
  options: DumpOptions;
  statusUrl: string;
  downloadUrl: string;
}


export class DumpWorkflow extends WorkflowEntrypoint<Env, DumpParams> {
  async run(event: WorkflowEvent<DumpParams>, step: WorkflowStep) {
    const params = event.payload;
    const config = readConfig(this.env);
    const breathingMs = params.options.breathingMs ?? config.breathingMs;
    let outcome: { size: number; rows: number; tables: number };
    try {
      const { plan, uploadId } = await step.do("plan", WORK_STEP, () => planDump(this.env, params));
      const context = { env: this.env, params, plan, uploadId, config };
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
      outcome = { size: file.size, rows, tables: plan.tables.length };
    } catch (error) {
      if (isEngineInterruption(error)) throw error;
      const reason = messageOf(error);
      await step.do("clean up after failure", WORK_STEP, () => recordFailure(this.env, params, reason));
      await this.notify(step, params, "failed");
      throw error;
    }
    await this.notify(step, params, "completed");
    await step.sleep("keep the file until its retention ends", retentionFor(params.options.retention, config));
    await step.do("delete the file after retention", WORK_STEP, () => expireDump(this.env, params.dumpId));
    return outcome;
  }

  /** Delivery failures are recorded and never change the dump's own outcome. */
  private async notify(step: WorkflowStep, params: DumpParams, status: "completed" | "failed") {
    if (!params.options.callbackUrl) return;
    try {
      await step.do(`callback · ${status}`, CALLBACK_STEP, (ctx) =>
        deliverCallback(this.env, params, status, ctx?.attempt ?? 1),
      );
    } catch (error) {
      console.log(JSON.stringify({ event: "callback_gave_up", dumpId: params.dumpId, error: String(error) }));
    }
  }
}

/** Readable in `wrangler workflows instances describe`, unique within the instance. */
export function chunkStepName(table: TablePlan, tableIndex: number, chunk: number): string {
  const name = table.name.length > 80 ? `${table.name.slice(0, 80)}… #${tableIndex + 1}` : table.name;
  return `table "${name}" · chunk ${chunk}`;
}
