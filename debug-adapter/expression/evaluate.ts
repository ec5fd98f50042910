// Evaluates parsed expressions (parse.ts) against a context that names values: the CPU's registers and tables
// (cpu-values.ts), or an engine event's fields ahead of them (exception-filter conditions).

import { ExpressionError, parseExpression, type Node, type TypeSpec } from './parse';

/** A value with fields or entries: a segment register, a descriptor, a table. `value` is its number, if any. */
export interface Composite {
  readonly kind: 'composite';
  /** What the value is called when compared with a string (`reg == DS`). */
  readonly name: string;
  readonly value?: number;
  /** One-line text for the Debug Console. */
  display(): string;
  field(name: string): Value | undefined;
  fieldNames(): string[];
  entry?(index: number): Value | undefined;
}

export type Value = number | string | boolean | Composite;

export interface EvalContext {
  /** The value a name stands for, or undefined when the context does not know it. */
  lookup(name: string): Value | undefined;
  /** Linear address of `offset` through a segment value (a segment register composite or a real-mode paragraph). */
  segmentedAddress(segment: Value, offset: number): number;
  /** Reads `size` bytes at a linear address without side effects; throws ExpressionError when unmapped. */
  readLinear(linear: number, size: number): number;
  /** The C operators (`*`, `&`, `->`, casts, sizeof, pointer arithmetic), when the program has DWARF. */
  c?: CSupport;
}

/** What C expressions need beyond numbers (debug-adapter/c/c-context.ts). */
export interface CSupport {
  isTypeName(name: string): boolean;
  deref(v: Value): Value;
  addressOf(v: Value): Value;
  cast(type: TypeSpec, v: Value): Value;
  sizeofType(type: TypeSpec): number;
  sizeofValue(v: Value): number;
  /** Pointer arithmetic and comparisons the plain numbers would get wrong; undefined to let numbers decide. */
  binary(op: string, a: Value, b: Value): Value | undefined;
}

const NO_C = 'needs C debugging information (DWARF) in the image; for memory use dword [address]';

export function isComposite(v: Value): v is Composite {
  return typeof v === 'object' && v !== null && v.kind === 'composite';
}

/** The number a value stands for (booleans are 0/1, composites their `value`). */
export function toNumber(v: Value, what = 'value'): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isComposite(v) && v.value !== undefined) return v.value;
  throw new ExpressionError(`${what} ${formatValue(v)} is not a number`);
}

export function truthy(v: Value): boolean {
  if (typeof v === 'string') return v.length > 0;
  return toNumber(v) !== 0;
}

export function formatValue(v: Value): string {
  if (typeof v === 'number') return v < 0 ? String(v) : `0x${v.toString(16)}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  return v.display();
}

/** Equality: numbers by value; a string against a composite by its name, case-insensitively (`reg == DS`). */
function equal(a: Value, b: Value): boolean {
  if (typeof a === 'string' || typeof b === 'string') {
    const name = (x: Value): string | undefined => (typeof x === 'string' ? x : isComposite(x) ? x.name : undefined);
    const na = name(a);
    const nb = name(b);
    if (na === undefined || nb === undefined) return false;
    if (isComposite(a) || isComposite(b)) return na.toLowerCase() === nb.toLowerCase();
    return na === nb;
  }
  return toNumber(a) === toNumber(b);
}

function binary(op: string, a: Value, b: Value): Value {
  switch (op) {
    case '==':
      return equal(a, b);
    case '!=':
      return !equal(a, b);
  }
  const x = toNumber(a);
  const y = toNumber(b);
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
    case '%':
      if (y === 0) throw new ExpressionError('division by zero');
      return op === '/' ? Math.trunc(x / y) : x % y;
    case '&':
      return (x & y) >>> 0;
    case '|':
      return (x | y) >>> 0;
    case '^':
      return (x ^ y) >>> 0;
    case '<<':
      return (x << y) >>> 0;
    case '>>':
      return x >>> y;
  }
  throw new ExpressionError(`unknown operator ${op}`);
}

export function evaluateNode(n: Node, ctx: EvalContext): Value {
  switch (n.kind) {
    case 'number':
    case 'string':
      return n.value;
    case 'name': {
      const v = ctx.lookup(n.name);
      if (v === undefined) throw new ExpressionError(`"${n.name}" is not a register, field or table here`);
      return v;
    }
    case 'unary': {
      const v = evaluateNode(n.operand, ctx);
      if (n.op === '!') return !truthy(v);
      if (n.op === '*' || n.op === '&') {
        if (!ctx.c) throw new ExpressionError(`unary "${n.op}" ${NO_C}`);
        return n.op === '*' ? ctx.c.deref(v) : ctx.c.addressOf(v);
      }
      const x = toNumber(v);
      return n.op === '-' ? -x : ~x >>> 0;
    }
    case 'binary': {
      if (n.op === '&&') return truthy(evaluateNode(n.left, ctx)) && truthy(evaluateNode(n.right, ctx));
      if (n.op === '||') return truthy(evaluateNode(n.left, ctx)) || truthy(evaluateNode(n.right, ctx));
      const a = evaluateNode(n.left, ctx);
      const b = evaluateNode(n.right, ctx);
      return ctx.c?.binary(n.op, a, b) ?? binary(n.op, a, b);
    }
    case 'cast':
      if (!ctx.c) throw new ExpressionError(`a cast ${NO_C}`);
      return ctx.c.cast(n.type, evaluateNode(n.operand, ctx));
    case 'sizeof':
      if (!ctx.c) throw new ExpressionError(`sizeof ${NO_C}`);
      return n.type ? ctx.c.sizeofType(n.type) : ctx.c.sizeofValue(evaluateNode(n.operand!, ctx));
    case 'member': {
      let o = evaluateNode(n.object, ctx);
      if (n.arrow) {
        if (!ctx.c) throw new ExpressionError(`"->" ${NO_C}`);
        o = ctx.c.deref(o);
      }
      if (!isComposite(o)) throw new ExpressionError(`${formatValue(o)} has no fields`);
      // C members keep their case; Ringside's own fields are lower case (`DS.Base` reads `ds.base`).
      const v = o.field(n.name) ?? o.field(n.name.toLowerCase());
      if (v === undefined) throw new ExpressionError(`${o.name} has no field "${n.name}" (it has ${o.fieldNames().join(', ')})`);
      return v;
    }
    case 'index': {
      const o = evaluateNode(n.object, ctx);
      const i = toNumber(evaluateNode(n.index, ctx), 'index');
      if (!isComposite(o) || !o.entry) throw new ExpressionError(`${formatValue(o)} cannot be indexed`);
      const v = o.entry(i);
      if (v === undefined) throw new ExpressionError(`${o.name}[${i}] is beyond its limit`);
      return v;
    }
    case 'memory': {
      const offset = toNumber(evaluateNode(n.address, ctx), 'address') >>> 0;
      const linear = n.segment === null ? offset : ctx.segmentedAddress(evaluateNode(n.segment, ctx), offset);
      return ctx.readLinear(linear >>> 0, n.size);
    }
  }
}

export function evaluateExpression(src: string, ctx: EvalContext): Value {
  return evaluateNode(parseExpression(src, { isTypeName: ctx.c && ((n) => ctx.c!.isTypeName(n)) }), ctx);
}

/** A context whose own names come first and the fallback's after (event fields over CPU registers). */
export function layeredContext(own: Record<string, Value>, fallback: EvalContext): EvalContext {
  return {
    lookup: (name) => (Object.prototype.hasOwnProperty.call(own, name) ? own[name] : fallback.lookup(name)),
    segmentedAddress: (s, o) => fallback.segmentedAddress(s, o),
    readLinear: (l, s) => fallback.readLinear(l, s),
    c: fallback.c,
  };
}

export { ExpressionError, parseExpression };
