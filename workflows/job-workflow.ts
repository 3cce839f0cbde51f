// What every job's Workflow does around its own steps: on failure, clean up and record why; then
// tell the caller (the callback step); after a success, whatever the job does last.

import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { readConfig, type DumpConfig } from "../shared/config";
import type { JobKind } from "../shared/job-record";
import { messageOf } from "../shared/error-message";
import { JobFailure, deliverCallback, jobIdOfParams, recordFailure, type JobParams, type Outcome } from "./jobs";
import { CALLBACK_STEP, WORK_STEP, isEngineInterruption } from "./step-config";

export abstract class JobWorkflow<K extends JobKind, Result> extends WorkflowEntrypoint<Env, JobParams<K>> {
  protected abstract readonly kind: K;

  /** The job's own steps, up to its result. A failure is thrown (a JobFailure to add to the record). */
  protected abstract runSteps(params: JobParams<K>, step: WorkflowStep, config: DumpConfig): Promise<Result>;

  /** Steps after a completed job's callback. */
  protected async afterCompletion(_params: JobParams<K>, _step: WorkflowStep, _config: DumpConfig): Promise<void> {}

  async run(event: WorkflowEvent<JobParams<K>>, step: WorkflowStep): Promise<Result> {
    const params = event.payload as JobParams<K>;
    const config = readConfig(this.env);
    let result: Result;
    try {
      result = await this.runSteps(params, step, config);
    } catch (error) {
      if (isEngineInterruption(error)) throw error;
      const failure = { message: messageOf(error), patch: error instanceof JobFailure ? error.patch : {} };
      const id = jobIdOfParams(this.kind, params);
      await step.do("clean up after failure", WORK_STEP, () => recordFailure(this.env, this.kind, id, failure));
      await this.notify(step, params, "failed");
      throw error;
    }
    await this.notify(step, params, "completed");
    await this.afterCompletion(params, step, config);
    return result;
  }

  /** Delivery failures are recorded and never change the job's own outcome. */
  private async notify(step: WorkflowStep, params: JobParams<K>, outcome: Outcome) {
    if (!params.options.callbackUrl) return;
    try {
      await step.do(`callback · ${outcome}`, CALLBACK_STEP, (ctx) => deliverCallback(this.env, this.kind, params, outcome, ctx?.attempt ?? 1));
    } catch (error) {
      console.log(JSON.stringify({ event: "callback_gave_up", kind: this.kind, id: jobIdOfParams(this.kind, params), error: String(error) }));
    }
  }
}
