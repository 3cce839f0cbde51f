// Configuration from the Worker's environment, with the defaults documented in wrangler.jsonc.

import { parseDuration } from "./duration";

export interface DumpConfig {
  r2ThresholdBytes: number;
  breathingMs: number;
  retentionMs: number;
  partSizeBytes: number;
  stepTargetBytes: number;
}

export interface ConfigVars {
  R2_THRESHOLD_BYTES?: string;
  BREATHING_MS?: string;
  DUMP_RETENTION?: string;
  R2_PART_SIZE_BYTES?: string;
  STEP_TARGET_BYTES?: string;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

export function readConfig(vars: ConfigVars): DumpConfig {
  return {
    r2ThresholdBytes: integerVar(vars.R2_THRESHOLD_BYTES, 100 * 1024 * 1024, "R2_THRESHOLD_BYTES"),
    breathingMs: integerVar(vars.BREATHING_MS, 200, "BREATHING_MS"),
    retentionMs: durationVar(vars.DUMP_RETENTION, 7 * 86_400_000),
    partSizeBytes: Math.max(MIN_PART_SIZE, integerVar(vars.R2_PART_SIZE_BYTES, MIN_PART_SIZE, "R2_PART_SIZE_BYTES")),
    stepTargetBytes: Math.max(1024 * 1024, integerVar(vars.STEP_TARGET_BYTES, 8 * 1024 * 1024, "STEP_TARGET_BYTES")),
  };
}

/** A dump's retention: its own option may shorten the configured one, never lengthen it. */
export function retentionFor(requested: string | undefined, config: DumpConfig): number {
  const asked = requested === undefined ? null : parseDuration(requested);
  return asked === null ? config.retentionMs : Math.min(asked, config.retentionMs);
}

function integerVar(text: string | undefined, fallback: number, name: string): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  return value;
}

function durationVar(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  const value = parseDuration(text);
  if (value === null) throw new Error(`DUMP_RETENTION must be a duration such as "7 days", got "${text}"`);
  return value;
}
