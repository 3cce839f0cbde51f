// One instance per restore: expand a compressed file, ready the target, then one step per slice
// of the file with a breathing sleep between, and finally tell the caller.

import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { CALLBACK_STEP, WORK_STEP, isEngineInterruption } from "./step-config";
import { readConfig } from "../shared/config";
import type { RestoreOptions, RestoreSource } from "../shared/restore-record";
import {
  applySlice,
  deliverRestoreCallback,
  expandSource,
  finishRestore,
  prepareTarget,
  recordRestoreFailure,
  type RestoreCursor,
  type RestoreFailure,
  type StepResult,
} from "./restore-steps";
import { messageOf } from "../shared/error-message";

export interface RestoreParams {
  restoreId: string;
  database: string;
  source: RestoreSource;
  /** The stored file is gzip: it is expanded to plain SQL first. */
  compressed: boolean;
  /** Size of the stored file (compressed size when compressed). */
  fileBytes: number;
  options: RestoreOptions;
  statusUrl: string;
}


export class RestoreWorkflow extends WorkflowEntrypoint<Env, RestoreParams> {
  async run(event: WorkflowEvent<RestoreParams>, step: WorkflowStep) {
    const params = event.payload;
    const config = readConfig(this.env);
    const breathingMs = params.options.breathingMs ?? config.breathingMs;
    let failure: RestoreFailure | null = null;
    let cursor: RestoreCursor | null = null;
    try {
      const totalBytes = params.compressed
        ? (await step.do("expand the gzip file", WORK_STEP, () => expandSource(this.env, params, config.partSizeBytes))).totalBytes
        : params.fileBytes;
      let result: StepResult = await step.do("prepare the target", WORK_STEP, () => prepareTarget(this.env, params, totalBytes));
      for (let slice = 1; result.cursor && !result.cursor.done; slice++) {
        const from: RestoreCursor = result.cursor;
        if (slice > 1 && breathingMs > 0) await step.sleep(`breathe · before slice ${slice}`, breathingMs);
        result = await step.do(sliceStepName(slice, from), WORK_STEP, () => applySlice(this.env, params, from));
      }
      failure = result.failure;
      cursor = result.cursor;
    } catch (error) {
      if (isEngineInterruption(error)) throw error;
      failure = { message: messageOf(error), statement: null };
    }
    if (failure || !cursor) {
      const reason: RestoreFailure = failure ?? { message: "the restore stopped without a result", statement: null };
      await step.do("record the failure", WORK_STEP, () => recordRestoreFailure(this.env, params, reason));
      await this.notify(step, params, "failed");
      throw new Error(reason.message);
    }
    const last = cursor;
    await step.do("finish", WORK_STEP, () => finishRestore(this.env, params, last));
    await this.notify(step, params, "completed");
    return { bytes: last.totalBytes, statementsApplied: last.applied, statementsSkipped: last.skipped };
  }

  /** Delivery failures are recorded and never change the restore's own outcome. */
  private async notify(step: WorkflowStep, params: RestoreParams, status: "completed" | "failed") {
    if (!params.options.callbackUrl) return;
    try {
      await step.do(`callback · ${status}`, CALLBACK_STEP, (ctx) => deliverRestoreCallback(this.env, params, status, ctx?.attempt ?? 1));
    } catch (error) {
      console.log(JSON.stringify({ event: "callback_gave_up", restoreId: params.restoreId, error: String(error) }));
    }
  }
}

/** Readable in `wrangler workflows instances describe`, unique within the instance. */
export function sliceStepName(slice: number, from: RestoreCursor): string {
  const table = from.currentTable ? ` · "${from.currentTable.length > 60 ? `${from.currentTable.slice(0, 60)}…` : from.currentTable}"` : "";
  return `slice ${slice} · from byte ${from.offset}${table}`;
}
