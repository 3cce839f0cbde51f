import { describe, expect, it } from "vitest";
import { binaryParts, decimalDigits, exactPowerOfTwoExpression, realLiteral } from "../../shared/real-literal";
import { seededRandom } from "../random";
import { doubleBits, openDatabase, rows } from "./sqljs";

const db = openDatabase();

interface Evaluated {
  type: unknown;
  value: unknown;
  equalsBound: unknown;
}

/**
 * typeof() and value of each literal as a correct SQLite computes them. The value is read as a
 * double through sqlite3_column_double and also compared in SQL with the original bound as a
 * double, so SQLite's own float-to-text conversion plays no part in the verdict.
 */
function evaluate(literals: string[], originals: number[]): Evaluated[] {
  const out: Evaluated[] = [];
  for (let start = 0; start < literals.length; start += 500) {
    const batch = literals.slice(start, start + 500);
    const values = batch.map((literal, i) => `(${literal}, ?${i + 1})`).join(",");
    const bound = originals.slice(start, start + 500).map((x) => (Number.isFinite(x) ? x : null));
    for (const [type, value, equalsBound] of rows(
      db,
      `SELECT typeof(column1), column1, column1 = column2 FROM (VALUES ${values})`,
      bound,
    )) {
      out.push({ type, value, equalsBound });
    }
  }
  return out;
}

/** Literals whose SQLite value differs from the double they were written for. */
function mismatches(values: number[]): string[] {
  const literals = values.map(realLiteral);
  const evaluated = evaluate(literals, values);
  const wrong: string[] = [];
  values.forEach((x, i) => {
    const expected = x; // -0.0 evaluates to -0.0; a column without a type keeps it
    const { type, value, equalsBound } = evaluated[i];
    const exact = type === "real" && typeof value === "number" && doubleBits(value) === doubleBits(expected);
    // sql.js binds whole numbers as integers; SQLite compares integer and real exactly.
    const comparesEqual = !Number.isFinite(x) || equalsBound === 1;
    if (!exact || !comparesEqual) {
      wrong.push(`${x} (bits ${doubleBits(x).toString(16)}) -> ${literals[i]} -> ${String(type)} ${String(value)}`);
    }
  });
  return wrong;
}

/** The literal forms the Durable Object's inexact parser still reads exactly (DESIGN.md §2). */
function expectSafeEverywhere(literal: string): void {
  if (literal === "1e999" || literal === "-1e999") return;
  if (literal.startsWith("(")) {
    expect(literal).toMatch(/^\(-?\d+\*1\.0([*/]\d+)*\)$/);
    const integers = literal.match(/\d+/g)!.filter((n) => n !== "1" && n !== "0");
    const [mantissa, ...powers] = literal.slice(1, -1).replace(/^-/, "").split(/[*/]/);
    expect(BigInt(mantissa) < 2n ** 53n).toBe(true);
    for (const power of powers.slice(1)) {
      const p = BigInt(power);
      expect(p & (p - 1n)).toBe(0n); // a power of two
      expect(p <= 2n ** 62n).toBe(true); // an integer literal, not a REAL
    }
    expect(integers.length).toBeGreaterThan(0);
    return;
  }
  expect(literal).toMatch(/^-?(\d+\.\d+|\d+e-?\d+|\d+\.\d+e-?\d+)$/);
  const { digits, exponent } = decimalDigits(literal);
  expect(digits.length).toBeLessThanOrEqual(15);
  expect(Math.abs(exponent)).toBeLessThanOrEqual(22);
}

// Generous: the machine is shared, and sql.js evaluates 22,000 literals here.
describe("realLiteral in a correct SQLite", { timeout: 60_000 }, () => {
  const edgeCases = [
    0,
    -0,
    5e-324,
    -5e-324,
    Number.MIN_VALUE,
    2.2250738585072014e-308, // smallest normal
    2.225073858507201e-308, // largest subnormal
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    2 ** 63,
    2 ** 64,
    0.1,
    -0.1,
    0.2 + 0.1,
    1 / 3,
    19.99,
    3.14159,
    1e21,
    1e22,
    1e23,
    1e-7,
    1e-5,
    1.5e-7,
    123456789012345680000,
    1e20,
    100000000000000000000.5, // rounds to 1e20
    999999999999999.9,
    123456789012345.6,
    10,
    -10,
    1,
    1e15,
    1e16,
    Infinity,
    -Infinity,
    Number.EPSILON,
    Math.PI,
    Math.E,
  ];

  it("evaluates every edge case to the same double, as a REAL", () => {
    expect(mismatches(edgeCases)).toEqual([]);
    for (const x of edgeCases) expectSafeEverywhere(realLiteral(x));
  });

  it("writes ±Infinity as 1e999 / -1e999, which SQLite reads as ±Inf", () => {
    expect(realLiteral(Infinity)).toBe("1e999");
    expect(realLiteral(-Infinity)).toBe("-1e999");
    expect(rows(db, "SELECT typeof(1e999), 1e999, typeof(-1e999), -1e999")).toEqual([
      ["real", Infinity, "real", -Infinity],
    ]);
  });

  it("keeps whole-number reals REAL", () => {
    for (const x of [10, 0, -0, 1, -1, 2 ** 53, 1e15, 1e21, 1e22, 1e23, 2 ** 1000]) {
      const [[type]] = rows(db, `SELECT typeof(${realLiteral(x)})`);
      expect(type, `${x} -> ${realLiteral(x)}`).toBe("real");
    }
    // The row survives a column with no affinity, where an integer literal would stay INTEGER.
    db.run("CREATE TABLE untyped(v)");
    db.run(`INSERT INTO untyped VALUES(${realLiteral(10)})`);
    expect(rows(db, "SELECT typeof(v), v FROM untyped")).toEqual([["real", 10]]);
  });

  it("uses plain decimal text for short values", () => {
    expect(realLiteral(0.1)).toBe("0.1");
    expect(realLiteral(-0.1)).toBe("-0.1");
    expect(realLiteral(10)).toBe("10.0");
    expect(realLiteral(0)).toBe("0.0");
    expect(realLiteral(-0)).toBe("-0.0");
    expect(realLiteral(19.99)).toBe("19.99");
    expect(realLiteral(3.14159)).toBe("3.14159");
    expect(realLiteral(1e-5)).toBe("0.00001");
    expect(realLiteral(1e-7)).toBe("1e-7");
    expect(realLiteral(1.5e-7)).toBe("15e-8");
    expect(realLiteral(1e21)).toBe("1e21");
    expect(realLiteral(1e22)).toBe("1e22");
    expect(realLiteral(1e20)).toBe("1e20"); // "100000000000000000000" has 21 digits to accumulate
    expect(realLiteral(999999999999999.9)).toMatch(/^\(/); // 16 significant digits
  });

  it("uses the exact power-of-two expression beyond 15 digits or exponent ±22", () => {
    expect(realLiteral(1e23)).toMatch(/^\(/);
    expect(realLiteral(1 / 3)).toMatch(/^\(/);
    expect(realLiteral(123456789012345680000)).toMatch(/^\(/);
    expect(realLiteral(2 ** 53)).toBe("(1*1.0*9007199254740992)");
    expect(realLiteral(5e-324)).toBe(`(1*1.0${"/4611686018427387904".repeat(17)}/1048576)`);
    expect(realLiteral(-0.75 * 2 ** -2)).toBe("-0.1875");
    expect(exactPowerOfTwoExpression(-0.1875)).toBe("(-3*1.0/16)");
  });

  it("writes NaN as NULL, as SQLite stores it", () => {
    expect(realLiteral(NaN)).toBe("NULL");
  });

  it("evaluates 10,000 random 64-bit patterns exactly", () => {
    const random = seededRandom(0x5eed1);
    const view = new DataView(new ArrayBuffer(8));
    const values: number[] = [];
    while (values.length < 10_000) {
      view.setUint32(0, Math.floor(random() * 2 ** 32));
      view.setUint32(4, Math.floor(random() * 2 ** 32));
      const x = view.getFloat64(0);
      if (!Number.isNaN(x)) values.push(x);
    }
    expect(mismatches(values)).toEqual([]);
    for (const x of values) expectSafeEverywhere(realLiteral(x));
  });

  it("evaluates 10,000 random magnitudes from 1e-320 to 1e308 exactly", () => {
    const random = seededRandom(0x5eed2);
    const values: number[] = [];
    while (values.length < 10_000) {
      const magnitude = 10 ** (-320 + random() * 628) * (1 + random() * 9);
      if (!Number.isFinite(magnitude)) continue;
      values.push(random() < 0.5 ? -magnitude : magnitude);
    }
    expect(mismatches(values)).toEqual([]);
    for (const x of values) expectSafeEverywhere(realLiteral(x));
  });

  it("evaluates 2,000 short decimals (prices, measurements) exactly and as plain text", () => {
    const random = seededRandom(0x5eed3);
    const values: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const places = Math.floor(random() * 6);
      values.push(Number((random() * 10 ** Math.floor(random() * 9)).toFixed(places)));
    }
    expect(mismatches(values)).toEqual([]);
    for (const x of values) {
      const literal = realLiteral(x);
      expect(literal.startsWith("("), `${x} -> ${literal}`).toBe(false);
      expectSafeEverywhere(literal);
    }
  });
});

describe("decimalDigits", () => {
  it("splits shortest text into significant digits and a decimal exponent", () => {
    expect(decimalDigits("0")).toEqual({ digits: "0", exponent: 0 });
    expect(decimalDigits("1200")).toEqual({ digits: "12", exponent: 2 });
    expect(decimalDigits("-0.00125")).toEqual({ digits: "125", exponent: -5 });
    expect(decimalDigits("1.5e-7")).toEqual({ digits: "15", exponent: -8 });
    expect(decimalDigits("1e+21")).toEqual({ digits: "1", exponent: 21 });
    expect(decimalDigits("19.99")).toEqual({ digits: "1999", exponent: -2 });
  });
});

describe("binaryParts", () => {
  it("gives an odd mantissa below 2^53 with value = mantissa × 2^exponent", () => {
    expect(binaryParts(0)).toEqual({ mantissa: 0, exponent: 0 });
    expect(binaryParts(1)).toEqual({ mantissa: 1, exponent: 0 });
    expect(binaryParts(-6)).toEqual({ mantissa: 3, exponent: 1 });
    expect(binaryParts(5e-324)).toEqual({ mantissa: 1, exponent: -1074 });
    expect(binaryParts(Number.MAX_VALUE)).toEqual({ mantissa: 2 ** 53 - 1, exponent: 971 });
    const random = seededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const x = (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      const { mantissa, exponent } = binaryParts(x);
      if (x === 0) continue;
      expect(mantissa % 2).toBe(1);
      expect(mantissa < 2 ** 53).toBe(true);
      expect(mantissa * 2 ** exponent).toBe(Math.abs(x));
    }
  });
});
