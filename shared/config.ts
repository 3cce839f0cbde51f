// Configuration from the Worker's environment, with the defaults documented in wrangler.jsonc.

import { parseDuration } from "./duration";

export interface DumpConfig {
  r2ThresholdBytes: number;
  breathingMs: number;
  retentionMs: number;
  /** How long a scheduled backup is kept at most; its schedule's retention policy usually deletes it sooner. */
  scheduledRetentionMs: number;
  partSizeBytes: number;
  stepTargetBytes: number;
}

export interface ConfigVars {
  R2_THRESHOLD_BYTES?: string;
  BREATHING_MS?: string;
  DUMP_RETENTION?: string;
  SCHEDULED_DUMP_RETENTION?: string;
  R2_PART_SIZE_BYTES?: string;
  STEP_TARGET_BYTES?: string;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

export function readConfig(vars: ConfigVars): DumpConfig {
  return {
    r2ThresholdBytes: integerVar(vars.R2_THRESHOLD_BYTES, 100 * 1024 * 1024, "R2_THRESHOLD_BYTES"),
    breathingMs: integerVar(vars.BREATHING_MS, 200, "BREATHING_MS"),
    retentionMs: durationVar(vars.DUMP_RETENTION, 7 * 86_400_000, "DUMP_RETENTION"),
    scheduledRetentionMs: durationVar(vars.SCHEDULED_DUMP_RETENTION, 365 * 86_400_000, "SCHEDULED_DUMP_RETENTION"),
    partSizeBytes: Math.max(MIN_PART_SIZE, integerVar(vars.R2_PART_SIZE_BYTES, MIN_PART_SIZE, "R2_PART_SIZE_BYTES")),
    stepTargetBytes: Math.max(1024 * 1024, integerVar(vars.STEP_TARGET_BYTES, 8 * 1024 * 1024, "STEP_TARGET_BYTES")),
  };
}

/**
 * A dump's retention: its own option may shorten the configured one, never lengthen it. A scheduled
 * dump is kept up to SCHEDULED_DUMP_RETENTION, as its schedule's policy decides when it goes.
 */
export function retentionFor(requested: string | undefined, config: DumpConfig, scheduled = false): number {
  const limit = scheduled ? config.scheduledRetentionMs : config.retentionMs;
  const asked = requested === undefined ? null : parseDuration(requested);
  return asked === null ? limit : Math.min(asked, limit);
}

function integerVar(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  return value;
}

function durationVar(text: string | undefined, fallback: number, name: string): number {
  if (!text) return fallback;
  const value = parseDuration(text);
  if (value === null) throw new Error(`${name} must be a duration such as "7 days", got "${text}"`);
  return value;
}
