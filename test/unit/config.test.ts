import { describe, expect, it } from "vitest";
import { readConfig } from "../../shared/config";

const MiB = 1024 * 1024;

describe("readConfig", () => {
  it("has documented defaults", () => {
    expect(readConfig({})).toEqual({
      r2ThresholdBytes: 100 * MiB,
      breathingMs: 200,
      retentionMs: 7 * 86_400_000,
      scheduledRetentionMs: 365 * 86_400_000,
      partSizeBytes: 5 * MiB,
      stepTargetBytes: 8 * MiB,
    });
    expect(readConfig({ BREATHING_MS: "", R2_THRESHOLD_BYTES: "", DUMP_RETENTION: "" })).toEqual(readConfig({}));
  });

  it("reads every variable", () => {
    expect(
      readConfig({
        R2_THRESHOLD_BYTES: "1000",
        BREATHING_MS: "0",
        DUMP_RETENTION: "1 hour",
        SCHEDULED_DUMP_RETENTION: "30 days",
        R2_PART_SIZE_BYTES: String(10 * MiB),
        STEP_TARGET_BYTES: String(2 * MiB),
      }),
    ).toEqual({
      r2ThresholdBytes: 1000,
      breathingMs: 0,
      retentionMs: 3_600_000,
      scheduledRetentionMs: 30 * 86_400_000,
      partSizeBytes: 10 * MiB,
      stepTargetBytes: 2 * MiB,
    });
  });

  it("raises part and step sizes to the R2 and practical minimums", () => {
    const config = readConfig({ R2_PART_SIZE_BYTES: "1024", STEP_TARGET_BYTES: "1" });
    expect(config.partSizeBytes).toBe(5 * MiB);
    expect(config.stepTargetBytes).toBe(MiB);
  });

  it.each([
    ["R2_THRESHOLD_BYTES", "lots"],
    ["R2_THRESHOLD_BYTES", "-1"],
    ["BREATHING_MS", "1.5"],
    ["BREATHING_MS", "Infinity"],
    ["R2_PART_SIZE_BYTES", "5MB"],
    ["STEP_TARGET_BYTES", "NaN"],
  ])("rejects %s=%j", (name, value) => {
    expect(() => readConfig({ [name]: value })).toThrow(name);
  });

  it("rejects a retention that is not a duration", () => {
    expect(() => readConfig({ DUMP_RETENTION: "forever" })).toThrow(/DUMP_RETENTION/);
    expect(() => readConfig({ DUMP_RETENTION: "-1 day" })).toThrow(/DUMP_RETENTION/);
  });
});
