// One instance per restore: expand a compressed file, ready the target, then one step per slice
// of the file with a breathing sleep between, and finish; then (JobWorkflow) tell the caller.

import type { WorkflowStep } from "cloudflare:workers";
import type { DumpConfig } from "../shared/config";
import type { RestoreOptions, RestoreSource } from "../shared/restore-record";
import { JobWorkflow } from "./job-workflow";
import { JobFailure } from "./jobs";
import { bytesToHex, sha256Finish } from "../shared/sha256";
import {
  applySlice,
  expandSource,
  finishRestore,
  hashSourceSlice,
  prepareTarget,
  startOfHash,
  type HashCursor,
  type RestoreCursor,
  type StepResult,
} from "./restore-steps";
import { WORK_STEP } from "./step-config";

export interface RestoreParams {
  restoreId: string;
  database: string;
  source: RestoreSource;
  /** The stored file is gzip: it is expanded to plain SQL first. */
  compressed: boolean;
  /** Size of the stored file (compressed size when compressed). */
  fileBytes: number;
  /** The dump's SHA-256 (hex): the stored file is checked against it before anything is applied. */
  sha256: string | null;
  options: RestoreOptions;
  statusUrl: string;
}

export class RestoreWorkflow extends JobWorkflow<"restore", { bytes: number; statementsApplied: number; statementsSkipped: number }> {
  protected readonly kind = "restore";

  protected async runSteps(params: RestoreParams, step: WorkflowStep, config: DumpConfig) {
    const breathingMs = params.options.breathingMs ?? config.breathingMs;
    if (params.sha256) await this.verifySource(params, params.sha256, step);
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

  /** Hashes the dump's stored file, a slice per step, and fails the restore before it touches the target when it differs. */
  private async verifySource(params: RestoreParams, expected: string, step: WorkflowStep) {
    let cursor: HashCursor = startOfHash();
    for (let slice = 1; cursor.offset < params.fileBytes; slice++) {
      const from: HashCursor = cursor;
      cursor = await step.do(`verify the dump's SHA-256 · slice ${slice} from byte ${from.offset}`, WORK_STEP, () =>
        hashSourceSlice(this.env, params, from),
      );
    }
    const actual = bytesToHex(sha256Finish(cursor.sha256));
    if (actual !== expected.toLowerCase()) {
      throw new JobFailure(
        `the dump's stored file does not match its SHA-256 (recorded ${expected}, stored file ${actual}): ` +
          `it was changed or damaged in storage, so nothing was applied to database "${params.database}"`,
      );
    }
  }
}

/** Readable in `wrangler workflows instances describe`, unique within the instance. */
export function sliceStepName(slice: number, from: RestoreCursor): string {
  const table = from.currentTable ? ` · "${from.currentTable.length > 60 ? `${from.currentTable.slice(0, 60)}…` : from.currentTable}"` : "";
  return `slice ${slice} · from byte ${from.offset}${table}`;
}
