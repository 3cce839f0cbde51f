// REAL values survive a dump and a restore bit for bit inside the Durable Object's own SQLite,
// whose float parser misreads many decimal texts (../shared/DESIGN.md §2): the dump must write
// literals that this parser reads exactly.

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  downloadBytes,
  downloadText,
  expectJson,
  postJson,
  query,
  restorableStatements,
  restoreDump,
  runDumpToCompletion,
  sameBytes,
  seed,
  startDump,
  uniqueName,
} from "./helpers";

const COUNT = 10_000;
const PARAMS_PER_STATEMENT = 100; // a Durable Object binds at most 100 parameters per statement

/** Values whose text is hard for a parser, or that sit on the boundaries of the literal rules. */
const SPECIAL = [
  0, 1, -1, 0.1, 0.2, 0.3, 19.99, 3.14159, 1e-5, 1 / 3, 2 / 3, 10, 1e15, 1e16, 1e21, 1e22, 1e23, 1e-22, 1e-23,
  123456789012345.6, 12345678901234.56, 9007199254740992, 9007199254740994, Number.MAX_SAFE_INTEGER, 2 ** 63, -(2 ** 63),
  2 ** 64, 2 ** 1023, Number.MAX_VALUE, -Number.MAX_VALUE, 2.2250738585072014e-308, 2.225073858507201e-308, 5e-324,
  -5e-324, 1e-320, 4.9406564584124654e-320, 1.7976931348623155e308, 0.30000000000000004, 5e-7, 1e300, 1e-300,
];

function randomDoubles(count: number): number[] {
  const values: number[] = [...SPECIAL];
  // Money-like values take the short decimal path.
  for (let i = 0; i < 1000; i++) values.push(Math.round((Math.random() - 0.5) * 1e8) / 100);
  // Random bit patterns cover every exponent, denormals included.
  const bits = new Float64Array(1);
  const bytes = new Uint8Array(bits.buffer);
  while (values.length < count) {
    crypto.getRandomValues(bytes);
    if (!Number.isNaN(bits[0])) values.push(bits[0]);
  }
  return values;
}

interface RealRow {
  id: number;
  x: number;
  y: number;
  tx: string;
  ty: string;
}

/** Read over RPC, not JSON: structured clone keeps ±Infinity and -0, which JSON cannot carry. */
async function readReals(database: string): Promise<RealRow[]> {
  const stub = env.DATABASE.get(env.DATABASE.idFromName(database));
  const outcome = await stub.query({ sql: "SELECT id, x, y, typeof(x) AS tx, typeof(y) AS ty FROM reals ORDER BY id" });
  if (outcome.error !== null) throw new Error(outcome.error);
  return outcome.result as unknown as RealRow[];
}

function firstDifference(a: RealRow[], b: RealRow[]): string | null {
  if (a.length !== b.length) return `${a.length} rows against ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const [p, q] = [a[i], b[i]];
    if (p.id !== q.id || !Object.is(p.x, q.x) || !Object.is(p.y, q.y) || p.tx !== q.tx || p.ty !== q.ty) {
      return `row ${i}: ${JSON.stringify([p.id, String(p.x), String(p.y), p.tx, p.ty])} against ${JSON.stringify([q.id, String(q.x), String(q.y), q.tx, q.ty])}`;
    }
  }
  return null;
}

describe("exact REAL values through dump and restore inside a Durable Object", () => {
  it("restores 10,000 doubles across the whole range bit for bit, and dumps the copy identically", async () => {
    const values = randomDoubles(COUNT);
    const inserts = [];
    for (let start = 0; start < values.length; start += PARAMS_PER_STATEMENT) {
      const slice = values.slice(start, start + PARAMS_PER_STATEMENT);
      inserts.push({ sql: `INSERT INTO reals (x) VALUES ${slice.map(() => "(?)").join(",")}`, params: slice });
    }
    await seed("reals-a", ["CREATE TABLE reals (id INTEGER PRIMARY KEY, x REAL, y)", ...inserts]);
    // JSON has no ±Infinity, so those go in as literals; y is untyped, where no affinity rewrites a value.
    await seed("reals-a", ["INSERT INTO reals (x) VALUES (1e999), (-1e999)", "UPDATE reals SET y = x"]);

    const source = await readReals("reals-a");
    expect(source).toHaveLength(COUNT + 2);
    source.slice(0, COUNT).forEach((row, i) => expect(Object.is(row.x, values[i]), `value ${i}: ${values[i]}`).toBe(true));
    expect([source[COUNT].x, source[COUNT + 1].x]).toEqual([Infinity, -Infinity]);
    expect(new Set(source.flatMap((r) => [r.tx, r.ty]))).toEqual(new Set(["real"]));
    // The premise: the DO's own quote() text does not read back exactly for many of these.
    const [{ misread }] = await query("reals-a", "SELECT count(*) AS misread FROM reals WHERE CAST(quote(x) AS REAL) <> x");
    expect(misread).toBeGreaterThan(0);

    const first = await startDump("reals-a", { storage: "do" });
    await runDumpToCompletion(first.dumpId);
    const dumpA = await downloadBytes(first.dumpId);
    const text = new TextDecoder().decode(dumpA);
    // Both literal forms occur: short decimals and mantissa-times-power-of-two expressions.
    expect(text).toMatch(/VALUES\(\d+,-?\d+\.\d+,/);
    expect(text).toMatch(/\(-?\d+\*1\.0[*/]\d+/);
    expect(text).toContain(",1e999,1e999);");
    expect(text).toContain(",-1e999,-1e999);");

    const statements = restorableStatements(text);
    expect(statements.length).toBe(COUNT + 3); // CREATE TABLE, then one INSERT per row
    const restored = await expectJson(await postJson("/query?database=reals-b", { transaction: statements.map((sql) => ({ sql })) }), 200);
    expect(restored.result).toHaveLength(statements.length);

    expect(firstDifference(await readReals("reals-b"), source)).toBeNull();

    const second = await startDump("reals-b", { storage: "do" });
    await runDumpToCompletion(second.dumpId);
    const dumpB = await downloadBytes(second.dumpId);
    expect(dumpB.length).toBe(dumpA.length);
    expect(sameBytes(dumpB, dumpA)).toBe(true);
  });

  it("keeps -0.0 negative in a column without a type", async () => {
    const [from, to] = [uniqueName("negzero-a"), uniqueName("negzero-b")];
    await seed(from, ["CREATE TABLE reals (id INTEGER PRIMARY KEY, x REAL, y)", "INSERT INTO reals (x, y) VALUES (0.0, -0.0)"]);
    // SQLite keeps the sign of -0.0 in a column without affinity (a REAL column stores it as integer 0).
    const [source] = await readReals(from);
    expect(Object.is(source.y, -0)).toBe(true);

    const { dumpId } = await startDump(from, { storage: "do" });
    await runDumpToCompletion(dumpId);
    await restoreDump(to, await downloadText(dumpId));
    const [restored] = await readReals(to);
    expect(Object.is(restored.y, -0), `y came back as ${Object.is(restored.y, 0) ? "+0" : restored.y}`).toBe(true);
    expect(restored.ty).toBe("real");
  });
});
