// Exact SQL text for a REAL value.
//
// SQLite's own quote() and the Durable Object's float parser are both inexact for many doubles
// (see README "Exactness"). Shortest decimal text is used only where every parser reads it exactly:
// at most 15 significant digits with a decimal exponent within ±22 (one exactly rounded
// multiplication or division of two exact doubles). Everything else is written as an integer
// mantissa times or divided by exact powers of two, which any SQLite evaluates without rounding.

const TWO_POW_62 = "4611686018427387904";
const MAX_FAST_PATH_DIGITS = 15;
const MAX_FAST_PATH_EXPONENT = 22;

export function realLiteral(value: number): string {
  if (value === Infinity) return "1e999";
  if (value === -Infinity) return "-1e999";
  if (Number.isNaN(value)) return "NULL"; // SQLite stores NaN as NULL.
  // String(-0) is "0"; a column without a type keeps -0.0 apart from 0.0.
  if (Object.is(value, -0)) return "-0.0";
  const shortest = String(value);
  const { digits, exponent } = decimalDigits(shortest);
  if (digits.length <= MAX_FAST_PATH_DIGITS && Math.abs(exponent) <= MAX_FAST_PATH_EXPONENT) {
    const plainSpan = shortest.includes("e") ? Infinity : plainDigitSpan(shortest);
    if (plainSpan <= MAX_FAST_PATH_DIGITS) {
      return /[.e]/.test(shortest) ? shortest : `${shortest}.0`;
    }
    return `${value < 0 ? "-" : ""}${digits}e${exponent}`;
  }
  return exactPowerOfTwoExpression(value);
}

/** Significant digits (no leading or trailing zeros) and exponent e with |value| = digits × 10^e. */
export function decimalDigits(text: string): { digits: string; exponent: number } {
  let body = text.replace(/^-/, "");
  let exponent = 0;
  const e = body.indexOf("e");
  if (e >= 0) {
    exponent = Number(body.slice(e + 1));
    body = body.slice(0, e);
  }
  const dot = body.indexOf(".");
  if (dot >= 0) {
    exponent -= body.length - dot - 1;
    body = body.slice(0, dot) + body.slice(dot + 1);
  }
  body = body.replace(/^0+/, "");
  const trimmed = body.replace(/0+$/, "");
  exponent += body.length - trimmed.length;
  return { digits: trimmed || "0", exponent: trimmed ? exponent : 0 };
}

/** Digits a parser accumulates for plain text like "1200.5": from the first non-zero digit to the last digit. */
function plainDigitSpan(text: string): number {
  const digitsOnly = text.replace(/[-.]/g, "").replace(/^0+/, "");
  return digitsOnly.length;
}

/** value = mantissa × 2^exponent with an odd integer mantissa below 2^53. */
export function binaryParts(value: number): { mantissa: number; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(value));
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (high & 0xfffff) * 2 ** 32 + low;
  let exponent: number;
  if (biased === 0) {
    exponent = -1074;
  } else {
    mantissa += 2 ** 52;
    exponent = biased - 1075;
  }
  if (mantissa === 0) return { mantissa: 0, exponent: 0 };
  while (mantissa % 2 === 0) {
    mantissa /= 2;
    exponent += 1;
  }
  return { mantissa, exponent };
}

export function exactPowerOfTwoExpression(value: number): string {
  const { mantissa, exponent } = binaryParts(value);
  const sign = value < 0 ? "-" : "";
  const operator = exponent >= 0 ? "*" : "/";
  let remaining = Math.abs(exponent);
  let expression = `${sign}${mantissa}*1.0`;
  while (remaining >= 62) {
    expression += `${operator}${TWO_POW_62}`;
    remaining -= 62;
  }
  if (remaining > 0) expression += `${operator}${2n ** BigInt(remaining)}`;
  return `(${expression})`;
}
