// One instance per restore: expand a compressed file, ready the target, then one step per slice
// of the file with a breathing sleep between, and finish; then (JobWorkflow) tell the caller.

import type { WorkflowStep } from "cloudflare:workers";
import type { DumpConfig } from "../shared/config";
import type { RestoreOptions, RestoreSource } from "../shared/restore-record";
import type { SourceRef } from "../shared/sources";
import { JobWorkflow } from "./job-workflow";
import { JobFailure } from "./jobs";
import { applySlice, expandSource, finishRestore, prepareTarget, type RestoreCursor, type StepResult } from "./restore-steps";
import { WORK_STEP } from "./step-config";

export interface RestoreParams {
  restoreId: string;
  database: string;
  /** A configured source (DUMP_SOURCES); without it, the service's own database named `database`. */
  sourceRef?: SourceRef;
  source: RestoreSource;
  /** The stored file is gzip: it is expanded to plain SQL first. */
  compressed: boolean;
  /** Size of the stored file (compressed size when compressed). */
  fileBytes: number;
  options: RestoreOptions;
  statusUrl: string;
}

export class RestoreWorkflow extends JobWorkflow<"restore", { bytes: number; statementsApplied: number; statementsSkipped: number }> {
  protected readonly kind = "restore";

  protected async runSteps(params: RestoreParams, step: WorkflowStep, config: DumpConfig) {
    const breathingMs = params.options.breathingMs ?? config.breathingMs;
    const totalBytes = params.compressed
      ? (await step.do("expand the gzip file", WORK_STEP, () => expandSource(this.env, params))).totalBytes
      : params.fileBytes;
    let result: StepResult = await step.do("prepare the target", WORK_STEP, () => prepareTarget(this.env, params, totalBytes));
    for (let slice = 1; result.cursor && !result.cursor.done; slice++) {
      const from: RestoreCursor = result.cursor;
      if (slice > 1 && breathingMs > 0) await step.sleep(`breathe · before slice ${slice}`, breathingMs);
      result = await step.do(sliceStepName(slice, from), WORK_STEP, () => applySlice(this.env, params, from));
    }
    if (!result.cursor) throw new JobFailure<"restore">(result.failure.message, { failedStatement: result.failure.statement });
    const last = result.cursor;
    await step.do("finish", WORK_STEP, () => finishRestore(this.env, params, last));
    return { bytes: last.totalBytes, statementsApplied: last.applied, statementsSkipped: last.skipped };
  }
}

/** Readable in `wrangler workflows instances describe`, unique within the instance. */
export function sliceStepName(slice: number, from: RestoreCursor): string {
  const table = from.currentTable ? ` · "${from.currentTable.length > 60 ? `${from.currentTable.slice(0, 60)}…` : from.currentTable}"` : "";
  return `slice ${slice} · from byte ${from.offset}${table}`;
}
