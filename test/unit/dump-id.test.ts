import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { chooseStorage, dumpFileName, newDumpId } from "../../shared/dump-id";
import { DUMP_ID } from "../../shared/schemas";
import { seededRandom } from "../random";

const WORKFLOW_INSTANCE_ID = /^[a-zA-Z0-9_][a-zA-Z0-9-_]*$/;

describe("newDumpId", () => {
  it("is the UTC start time and the random part", () => {
    expect(newDumpId(new Date("2024-03-05T07:08:09.123Z"), "a1B2c3")).toBe("20240305-070809-a1B2c3");
  });

  it("is a valid Workflow instance id that sorts by start time", () => {
    const random = seededRandom(3);
    const ids: string[] = [];
    let time = Date.UTC(2000, 0, 1);
    for (let i = 0; i < 500; i++) {
      time += 1000 + Math.floor(random() * 10 ** (random() * 9)); // one id per second at most
      const id = newDumpId(new Date(time), crypto.randomUUID().replaceAll("-", ""));
      expect(id).toMatch(WORKFLOW_INSTANCE_ID);
      expect(id.length).toBeLessThanOrEqual(100);
      expect(v.is(DUMP_ID, id)).toBe(true);
      ids.push(id);
    }
    expect([...ids].sort()).toEqual(ids);
  });
});

describe("dumpFileName", () => {
  it("is dump_YYYYMMDD-HHMMSS.sql from the UTC start time", () => {
    expect(dumpFileName("2024-03-05T07:08:09.123Z")).toBe("dump_20240305-070809.sql");
    expect(dumpFileName("2024-12-31T23:59:59.999Z")).toBe("dump_20241231-235959.sql");
    expect(dumpFileName("2024-03-05T09:08:09+02:00")).toBe("dump_20240305-070809.sql");
    expect(dumpFileName(new Date(0).toISOString())).toMatch(/^dump_\d{8}-\d{6}\.sql$/);
  });

  it("ends in .sql.gz for a gzip dump", () => {
    expect(dumpFileName("2024-03-05T07:08:09.123Z", "gzip")).toBe("dump_20240305-070809.sql.gz");
    expect(dumpFileName("2024-03-05T07:08:09.123Z", "none")).toBe("dump_20240305-070809.sql");
  });
});

describe("chooseStorage", () => {
  it("honours an explicit choice", () => {
    expect(chooseStorage("r2", 1, 100, true)).toBe("r2");
    expect(chooseStorage("do", 1_000, 100, true)).toBe("do");
  });

  it("picks R2 above the threshold, when there is a bucket", () => {
    expect(chooseStorage("auto", 101, 100, true)).toBe("r2");
    expect(chooseStorage("auto", 100, 100, true)).toBe("do");
    expect(chooseStorage("auto", 101, 100, false)).toBe("do");
  });
});
