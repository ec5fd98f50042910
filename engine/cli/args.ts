// Command-line option parsing shared by the CLI commands: `--name value` and `--flag`, with numbers in hex or
// decimal. Errors are one line naming the option.

export class UsageError extends Error {}

export interface OptionSpec {
  /** Options that take a value. */
  values: readonly string[];
  /** Options that are flags. */
  flags: readonly string[];
}

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string>;
  /** Every value of each option, in order, for options that may be repeated (`--disk A --disk B`). */
  lists: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const out: ParsedArgs = { positional: [], values: new Map(), lists: new Map(), flags: new Set() };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (!a.startsWith('--')) {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (spec.flags.includes(name)) {
      if (eq > 0) throw new UsageError(`option --${name} takes no value`);
      out.flags.add(name);
    } else if (spec.values.includes(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++k];
      if (v === undefined) throw new UsageError(`option --${name} needs a value`);
      out.values.set(name, v);
      out.lists.set(name, [...(out.lists.get(name) ?? []), v]);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

/**
 * Parses `0x…` hex, `…h` hex or decimal; rejects anything else, and numbers above `max` (by default the largest
 * whole number a double holds exactly). Errors quote the text as typed: a number too large to hold would print as
 * 1.2089258196146292e+24.
 */
export function parseNumber(text: string, option: string, max = Number.MAX_SAFE_INTEGER): number {
  const t = text.trim().toLowerCase().replace(/_/g, '');
  let v: number;
  let hex = true;
  if (/^0x[0-9a-f]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^[0-9a-f]+h$/.test(t)) v = parseInt(t.slice(0, -1), 16);
  else if (/^[0-9]+$/.test(t)) {
    v = parseInt(t, 10);
    hex = false;
  } else throw new UsageError(`option --${option}: "${text}" is not a number`);
  if (v > max) throw new UsageError(`option --${option}: "${text}" is too large (at most ${hex ? '0x' + max.toString(16).toUpperCase() : max})`);
  return v;
}

/** The largest value of a 32-bit address option (--load, --entry). */
export const MAX_ADDRESS = 0xffff_ffff;
