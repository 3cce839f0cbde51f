// Exact SQL text for a REAL value.
//
// SQLite's own quote() and the Durable Object's float parser are both inexact for many doubles
// (see README "Exactness"). Shortest decimal text is used only where every parser reads it exactly:
// at most 15 significant digits with a decimal exponent within ±22 (one exactly rounded
// multiplication or division of two exact doubles). Everything else is written as an integer
// mantissa times or divided by exact powers of two, which any SQLite evaluates without rounding.
// A dump formats one REAL per row or more, so the common paths avoid regular expressions and BigInt.

const TWO_POW_62 = "4611686018427387904";
const MAX_FAST_PATH_DIGITS = 15;
const MAX_FAST_PATH_EXPONENT = 22;
/** "2^n" as decimal text for n = 0..61 (exact: below 2^63). */
const POWERS_OF_TWO = Array.from({ length: 62 }, (_, n) => (2n ** BigInt(n)).toString());
const bits = new DataView(new ArrayBuffer(8));

export function realLiteral(value: number): string {
  if (value === Infinity) return "1e999";
  if (value === -Infinity) return "-1e999";
  if (value !== value) return "NULL"; // NaN: SQLite stores NaN as NULL.
  // String(-0) is "0"; a column without a type keeps -0.0 apart from 0.0.
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  const shortest = String(value);
  const { digits, exponent } = decimalDigits(shortest);
  if (digits.length <= MAX_FAST_PATH_DIGITS && Math.abs(exponent) <= MAX_FAST_PATH_EXPONENT) {
    const hasExponent = shortest.includes("e");
    const plainSpan = hasExponent ? Infinity : plainDigitSpan(shortest);
    if (plainSpan <= MAX_FAST_PATH_DIGITS) {
      return hasExponent || shortest.includes(".") ? shortest : `${shortest}.0`;
    }
    return `${value < 0 ? "-" : ""}${digits}e${exponent}`;
  }
  return exactPowerOfTwoExpression(value);
}

/** Significant digits (no leading or trailing zeros) and exponent e with |value| = digits × 10^e. */
export function decimalDigits(text: string): { digits: string; exponent: number } {
  let end = text.length;
  let exponent = 0;
  const e = text.indexOf("e");
  if (e >= 0) {
    exponent = Number(text.slice(e + 1));
    end = e;
  }
  let body = text.slice(text.charCodeAt(0) === 45 /* - */ ? 1 : 0, end);
  const dot = body.indexOf(".");
  if (dot >= 0) {
    exponent -= body.length - dot - 1;
    body = body.slice(0, dot) + body.slice(dot + 1);
  }
  let first = 0;
  while (first < body.length && body.charCodeAt(first) === 48 /* 0 */) first++;
  let last = body.length;
  while (last > first && body.charCodeAt(last - 1) === 48) last--;
  if (first === last) return { digits: "0", exponent: 0 };
  return { digits: body.slice(first, last), exponent: exponent + body.length - last };
}

/** Digits a parser accumulates for plain text like "1200.5": from the first non-zero digit to the last digit. */
function plainDigitSpan(text: string): number {
  let span = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) continue; // "-" and "."
    if (leading && code === 48) continue;
    leading = false;
    span++;
  }
  return span;
}

/** value = mantissa × 2^exponent with an odd integer mantissa below 2^53. */
export function binaryParts(value: number): { mantissa: number; exponent: number } {
  bits.setFloat64(0, value);
  const high = bits.getUint32(0);
  let low = bits.getUint32(4);
  let highMantissa = high & 0xfffff;
  const biased = (high >>> 20) & 0x7ff;
  let exponent: number;
  if (biased === 0) {
    exponent = -1074;
  } else {
    highMantissa += 0x100000;
    exponent = biased - 1075;
  }
  if (highMantissa === 0 && low === 0) return { mantissa: 0, exponent: 0 };
  // Drop trailing zero bits: the mantissa becomes odd.
  if (low === 0) {
    low = highMantissa;
    highMantissa = 0;
    exponent += 32;
  }
  const zeros = 31 - Math.clz32(low & -low);
  if (zeros > 0) {
    low = ((low >>> zeros) | (highMantissa << (32 - zeros))) >>> 0;
    highMantissa >>>= zeros;
    exponent += zeros;
  }
  return { mantissa: highMantissa * 2 ** 32 + low, exponent };
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
  if (remaining > 0) expression += `${operator}${POWERS_OF_TWO[remaining]}`;
  return `(${expression})`;
}
