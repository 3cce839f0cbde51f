// One instance per run of a schedule: check its databases, start one dump Workflow per database with
// at most `concurrency` running at once (sleeping between checks while the limit is reached), wait
// for the last ones, delete the backups its retention policy no longer keeps, and record the outcome.

import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { messageOf } from "../shared/error-message";
import { finishedOutcome, type ScheduledDump, type ScheduleRun, type ScheduleSpec, type SkippedDatabase } from "../shared/schedule";
import { applyRetention, checkDatabases, dumpStatuses, recordRun, startScheduledDump, stillRunning } from "./schedule-steps";
import { WORK_STEP, isEngineInterruption } from "./step-config";

export interface ScheduleRunParams {
  name: string;
  runId: string;
  /** The cron time this run is for. */
  scheduledAt: string;
  startedAt: string;
  spec: ScheduleSpec;
  /** Origin of the dumps' status and download URLs. */
  origin: string;
}

/** How long the run sleeps before it looks again at dumps that hold its slots. */
export const SLOT_POLL_MS = 3_000;

export class ScheduleWorkflow extends WorkflowEntrypoint<Env, ScheduleRunParams> {
  async run(event: WorkflowEvent<ScheduleRunParams>, step: WorkflowStep): Promise<ScheduleRun> {
    const params = event.payload;
    const dumps: ScheduledDump[] = [];
    const skipped: SkippedDatabase[] = [];
    let deleted: string[] = [];
    let error: string | null = null;
    try {
      const check = await step.do("check the databases", WORK_STEP, () => checkDatabases(this.env, params));
      skipped.push(...check.skipped);
      let checks = 0;
      /** Sleeps and looks again until at most `limit` of the run's dumps are running. */
      const waitUntilRunning = async (limit: number) => {
        while (dumps.filter(stillRunning).length > limit) {
          checks += 1;
          await step.sleep(`wait for running dumps · ${checks}`, SLOT_POLL_MS);
          const running = dumps.filter(stillRunning);
          const now = await step.do(`check running dumps · ${checks}`, WORK_STEP, () => dumpStatuses(this.env, running));
          for (const updated of now) dumps[dumps.findIndex((d) => d.dumpId === updated.dumpId)] = updated;
        }
      };
      for (const [index, target] of check.ready.entries()) {
        const { database } = target;
        await waitUntilRunning(params.spec.concurrency - 1);
        const name = `start dump ${index + 1} of ${check.ready.length} · "${database}"`;
        const started = await step.do(name, WORK_STEP, () => startScheduledDump(this.env, params, target));
        if ("dumpId" in started) dumps.push({ database, dumpId: started.dumpId, status: "in_progress" });
        else skipped.push({ database, reason: started.error });
      }
      await waitUntilRunning(0);
      deleted = await step.do("apply the retention policy", WORK_STEP, () => applyRetention(this.env, params));
    } catch (thrown) {
      if (isEngineInterruption(thrown)) throw thrown;
      error = messageOf(thrown);
    }
    const outcome = error ? "failed" : finishedOutcome(dumps, skipped);
    const run: ScheduleRun = { runId: params.runId, scheduledAt: params.scheduledAt, startedAt: params.startedAt, finishedAt: null, outcome, dumps, skipped, deleted, error };
    return step.do("record the outcome", WORK_STEP, async () => {
      const finished = { ...run, finishedAt: new Date().toISOString() };
      await recordRun(this.env, params.name, finished);
      return finished;
    });
  }
}
