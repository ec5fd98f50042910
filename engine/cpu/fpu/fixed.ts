// Fixed-point real arithmetic on BigInts (values scaled by 2^P) for the transcendental instructions and the
// constants: series for ln, exp, atan, sin and cos, carried far beyond the 64 bits a result keeps so that one final
// rounding gives the correctly rounded extended value.

import { bitLength, isqrt } from './float80';

export const P = 200;
const PB = BigInt(P);
export const ONE = 1n << PB;

export function mulF(a: bigint, b: bigint): bigint {
  return (a * b) >> PB;
}

export function divF(a: bigint, b: bigint): bigint {
  return (a << PB) / b;
}

function atanhSmall(x: bigint): bigint {
  // x small (|x| ≤ 1/3): x + x³/3 + x⁵/5 + …
  const x2 = mulF(x, x);
  let term = x;
  let sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += term / k;
    term = mulF(term, x2);
  }
  return sum;
}

export const LN2 = 2n * atanhSmall(ONE / 3n);

/** ln(x) for x > 0 given as a fixed-point value. */
export function lnF(x: bigint): bigint {
  const k = bitLength(x) - 1 - P;
  const m = k >= 0 ? x >> BigInt(k) : x << BigInt(-k);
  return BigInt(k) * LN2 + 2n * atanhSmall(divF(m - ONE, m + ONE));
}

/** e^x. */
export function expF(x: bigint): bigint {
  const k = roundDiv(x, LN2);
  const r = x - k * LN2;
  let term = ONE;
  let sum = 0n;
  for (let n = 1n; term !== 0n; n++) {
    sum += term;
    term = mulF(term, r) / n;
  }
  return k >= 0n ? sum << k : sum >> -k;
}

function roundDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a - q * b;
  if (2n * (r < 0n ? -r : r) >= b) return q + (r < 0n ? -1n : 1n);
  return q;
}

export function sqrtF(x: bigint): bigint {
  return isqrt(x << PB);
}

/** atan(x) for any x. */
export function atanF(x: bigint): bigint {
  if (x < 0n) return -atanF(-x);
  if (x > ONE) return PI / 2n - atanF(divF(ONE, x));
  // two argument halvings: atan(x) = 2 atan(x / (1 + sqrt(1 + x²)))
  let y = x;
  for (let h = 0; h < 2; h++) y = divF(y, ONE + sqrtF(ONE + mulF(y, y)));
  const y2 = mulF(y, y);
  let term = y;
  let sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += (k & 2n) === 0n ? term / k : -(term / k);
    term = mulF(term, y2);
  }
  return sum * 4n;
}

function atanInv(n: bigint): bigint {
  // atan(1/n) by its series
  const x = ONE / n;
  const n2 = n * n;
  let term = x;
  let sum = 0n;
  for (let k = 1n; term !== 0n; k += 2n) {
    sum += (k & 2n) === 0n ? term / k : -(term / k);
    term /= n2;
  }
  return sum;
}

/** π by Machin's formula. */
export const PI = 16n * atanInv(5n) - 4n * atanInv(239n);

/** sin and cos of a reduced argument (|x| ≤ π/4 or so). */
export function sinCosF(x: bigint): [bigint, bigint] {
  const x2 = mulF(x, x);
  let s = 0n, c = 0n;
  let term = x;
  for (let n = 1n; term !== 0n; n += 2n) {
    s += term;
    term = -mulF(term, x2) / ((n + 1n) * (n + 2n));
  }
  term = ONE;
  for (let n = 0n; term !== 0n; n += 2n) {
    c += term;
    term = -mulF(term, x2) / ((n + 1n) * (n + 2n));
  }
  return [s, c];
}

export const LOG2E = divF(ONE, LN2);
export const LOG2_10 = divF(lnF(10n * ONE), LN2);
export const LOG10_2 = divF(LN2, lnF(10n * ONE));
