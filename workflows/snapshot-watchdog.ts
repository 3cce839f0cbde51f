// Ends a dump's snapshot when the dump's Workflow instance stops without ending it: terminated from
// outside (`wrangler workflows instances terminate`), or gone. The dump's triggers and side tables
// would otherwise stay in the source database, costing every write. One instance per dump that takes
// a snapshot, started by its plan step (so also for dumps started with `wrangler workflows trigger`);
// it looks now and then, and stops once the snapshot has ended.

import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { reclaimSnapshot } from "./jobs";
import { WORK_STEP } from "./step-config";

export interface WatchdogParams {
  dumpId: string;
}

/** Checks come every minute at first, then less often: a long pause costs few steps. */
export function watchdogInterval(check: number): number {
  return Math.min(60_000 * 2 ** Math.floor((check - 1) / 10), 3_600_000);
}

/** About a year of hourly checks, well within a Workflow's step limit. */
const MAX_CHECKS = 9_000;

export function watchdogId(dumpId: string): string {
  return `watch-${dumpId}`;
}

export class SnapshotWatchdog extends WorkflowEntrypoint<Env, WatchdogParams> {
  async run(event: WorkflowEvent<WatchdogParams>, step: WorkflowStep): Promise<string> {
    const { dumpId } = event.payload;
    for (let check = 1; check <= MAX_CHECKS; check++) {
      await step.sleep(`wait · ${check}`, watchdogInterval(check));
      // Safe to retry: it only reads, or ends an ended snapshot again.
      const outcome = await step.do(`check · ${check}`, WORK_STEP, () => reclaimSnapshot(this.env, dumpId));
      if (outcome !== "in use") return outcome;
    }
    return "gave up";
  }
}
