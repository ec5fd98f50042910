// `ringside run IMAGE [options]`: runs a guest to completion without the debugger (interfaces.md).

import { readFileSync, writeFileSync } from 'node:fs';
import { Machine, MAX_MEMORY_MB, SLICE, type StopReason } from '../machine/machine';
import { ImageError } from '../machine/loaders';
import { EVENT_NAMES, type EventName } from '../events';
import { formatEvent } from '../trace';
import { CS } from '../cpu/cpu';
import { IF } from '../cpu/flags';
import { parseArgs, parseNumber, UsageError } from './args';
import { parseCpuOption, parseLoadOptions, readDiskFiles, readImageFile, readInputFile } from './load-options';
import { keysForText, unescapeC, type HostKey } from '../devices/host-keys';
import { screenReport } from '../screen/screen';
import { writeScreenshot } from './screenshot';
import { attachMonitor, type SbeMode } from '../monitor/monitor';
import { monitorSummary, type MonitorSummary } from '../monitor/inspect';

const SPEC = {
  values: ['format', 'load', 'entry', 'mode', 'cpu', 'memory', 'max-instructions', 'sbe', 'trace', 'port-log', 'serial', 'disk', 'initrd', 'append', 'keys', 'serial-in', 'screenshot', 'output-times'],
  flags: ['monitor', 'json', 'screen'],
};

const EXIT_CODE: Record<StopReason, number> = { halt: 0, exit: 0, limit: 2, 'triple-fault': 3, breakpoint: 0, stopped: 0 };

export interface RunOutcome {
  stop: StopReason | 'error';
  exitCode: number;
  /** Instructions the guest executed. */
  instructions: number;
  /** Guest time skipped while halted waiting for a device interrupt (counts toward --max-instructions). */
  idleInstructions: number;
  seconds: number;
  mips: number;
  cs: number;
  eip: number;
  ports: Record<string, number[]>;
  error?: string;
  /** The CPU model the guest ran on (--cpu). */
  cpu?: string;
  /** With --monitor: traps by reason, return sequences taken, SBE time (monitor-summary.ts). */
  monitor?: MonitorSummary;
  /** With --keys: keys the guest never read (it never became ready for them). */
  keysUnread?: number;
  /** With --serial-in: bytes the guest never read. */
  serialInUnread?: number;
}

/** An exception from the engine itself while the guest ran (reported with exit code 1). */
class EngineError extends Error {
  constructor(message: string, readonly instructions: number) {
    super(message);
  }
}

/**
 * stdout, remembering whether what was written last ends a line: the --json summary must start on its own line
 * even when the guest's output does not end with a newline.
 */
class LineTracker {
  midLine = false;
  constructor(readonly out: NodeJS.WritableStream) {}
  write(chunk: Uint8Array | string): void {
    if (chunk.length === 0) return;
    const last = typeof chunk === 'string' ? chunk.charCodeAt(chunk.length - 1) : chunk[chunk.length - 1];
    this.midLine = last !== 0x0a;
    this.out.write(chunk);
  }
  /** Writes a whole line, starting a new one first if the output stopped mid-line. */
  line(text: string): void {
    this.write((this.midLine ? '\n' : '') + text + '\n');
  }
}

export function runCommand(argv: string[], stdout: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  let json = false;
  const out = new LineTracker(stdout);
  try {
    const args = parseArgs(argv, SPEC);
    json = args.flags.has('json');
    if (args.positional.length !== 1) throw new UsageError('run needs exactly one IMAGE argument (see ringside run --help)');
    const outcome = runImage(args.positional[0], args.values, args.flags, out, err, readDiskFiles(args.lists.get('disk') ?? []));
    if (json) out.line(JSON.stringify(outcome));
    return outcome.exitCode;
  } catch (e) {
    const known = e instanceof UsageError || e instanceof ImageError || e instanceof RangeError || e instanceof EngineError;
    const message = known ? (e as Error).message : String((e as Error)?.stack ?? e);
    err.write(`ringside: ${message}\n`);
    if (json) {
      const failed: RunOutcome = { stop: 'error', exitCode: 1, instructions: e instanceof EngineError ? e.instructions : 0, idleInstructions: 0, seconds: 0, mips: 0, cs: 0, eip: 0, ports: {}, error: message };
      out.line(JSON.stringify(failed));
    }
    return 1;
  }
}

function runImage(
  path: string,
  values: Map<string, string>,
  flags: Set<string>,
  out: LineTracker,
  err: NodeJS.WritableStream,
  disks: Uint8Array[],
): RunOutcome {
  const opts = parseLoadOptions(values);
  const cpu = parseCpuOption(values);
  const memoryMB = values.has('memory') ? parseNumber(values.get('memory')!, 'memory') : 16;
  if (memoryMB < 1 || memoryMB > MAX_MEMORY_MB) throw new UsageError(`option --memory: ${memoryMB} MiB is out of range (1–${MAX_MEMORY_MB})`);
  const maxInstructions = values.has('max-instructions') ? parseNumber(values.get('max-instructions')!, 'max-instructions') : Infinity;
  const sbe = values.get('sbe') ?? 'auto';
  if (!['on', 'off', 'auto'].includes(sbe)) throw new UsageError(`option --sbe: expected on|off|auto, got "${sbe}"`);
  const trace = parseTrace(values.get('trace'));
  const portLog = values.has('port-log')
    ? values.get('port-log')!.split(',').map((p) => {
        return parseNumber(p, 'port-log', 0xffff);
      })
    : [];

  const bytes = readImageFile(path);
  const keys = parseKeys(values.get('keys'));
  const serialIn = values.has('serial-in') ? readSerialInput(values.get('serial-in')!) : null;
  const screenshot = values.get('screenshot');
  if (screenshot !== undefined && !screenshot.toLowerCase().endsWith('.png')) throw new UsageError(`option --screenshot: "${screenshot}" is not a .png file name`);

  const serial = values.get('serial') ?? 'stderr';
  if (!['stdout', 'stderr', 'off'].includes(serial)) throw new UsageError(`option --serial: expected stdout|stderr|off, got "${serial}"`);
  const outputTimes = values.get('output-times');
  if (outputTimes === '') throw new UsageError('option --output-times needs a file name');
  // One line per output byte: guest time (instructions, idle time included) when the guest's byte left, channel, byte.
  const times: string[] = [];
  const timed = (channel: string, sink: (b: number) => void): ((b: number) => void) =>
    outputTimes === undefined ? sink : (b: number) => {
      times.push(`${machine.cpu.icount} ${channel} ${b.toString(16).padStart(2, '0')}`);
      sink(b);
    };
  const pending: number[] = [];
  // COM1 is the guest's second text channel; by default it goes to stderr so stdout stays the 0xE9 console.
  const onSerialByte = timed(
    'com1',
    serial === 'stdout' ? (b: number) => void pending.push(b) : serial === 'stderr' ? (b: number) => void err.write(Buffer.of(b)) : () => undefined,
  );
  // With COM1 on stdout, the firmware's copy of its teletype text (a guest printing through the BIOS and COM1 alike
  // would show every character twice, interleaved) goes to stderr instead; the guest's own E9h bytes stay.
  const onConsoleByte = timed('e9', (b: number): void => {
    if (serial === 'stdout' && machine.executingFirmware()) err.write(Buffer.of(b));
    else pending.push(b);
  });
  // Created now, so a file that cannot be written is said before a run of minutes, not after it.
  if (outputTimes !== undefined) writeOutputTimes(outputTimes, []);
  const writeTimes = (): void => {
    if (outputTimes !== undefined) writeOutputTimes(outputTimes, times);
  };
  const machine: Machine = new Machine({ memoryMB, model: cpu, portLog, onConsoleByte, devices: { onSerialByte, disks } });
  const monitor = flags.has('monitor') ? attachMonitor(machine, { sbe: sbe as SbeMode }) : null;
  const flush = (): void => {
    if (pending.length > 0) {
      out.write(Buffer.from(pending));
      pending.length = 0;
    }
  };
  machine.load(bytes, opts);
  if (keys !== null) machine.typeKeys(keys, 'line');
  if (serialIn !== null) machine.serialInput(serialIn, true);
  // Listen from the guest's first instruction on: the reset and the loader's setup are not the guest's doing.
  for (const name of trace) {
    machine.cpu.events.on(name, (e) => {
      flush();
      err.write(formatEvent(name, e) + '\n');
    });
  }

  const t0 = process.hrtime.bigint();
  let total = 0;
  let reason: StopReason;
  try {
    for (;;) {
      const budget = Math.min(SLICE * 16, maxInstructions - total);
      if (budget <= 0) {
        reason = 'limit';
        break;
      }
      const r = machine.runSlice(budget);
      total += r.instructions;
      flush();
      if (r.reason !== null && r.reason !== 'stopped') {
        reason = r.reason;
        break;
      }
    }
  } catch (e) {
    // An engine error is our bug, not the guest's: keep what the guest printed and say where it happened.
    flush();
    writeTimes();
    const cs = monitor !== null ? monitor.currentGuest().sel[CS] : machine.cpu.segSel[CS];
    const where = `${cs.toString(16).padStart(4, '0')}:${(machine.cpu.instrStart >>> 0).toString(16).padStart(8, '0')}`;
    throw new EngineError(`engine error at ${where} after ${total} instructions: ${(e as Error)?.message ?? e}`, total);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  flush();
  writeTimes();
  // `total` is guest time in instructions; time a halted CPU skipped while waiting for an interrupt is not work.
  const executed = total - machine.idleInstructions;
  const exitCode = reason === 'exit' ? machine.exitCode ?? 0 : EXIT_CODE[reason];
  if (reason === 'triple-fault') err.write('ringside: the guest triple-faulted (the CPU shut down)\n');
  if (reason === 'limit') err.write(`ringside: stopped after ${total} instructions (--max-instructions)\n`);
  if (reason === 'halt' && machine.poweredOff) err.write('ringside: the guest powered the machine off (ACPI S5)\n');
  else if (reason === 'halt' && (machine.cpu.getEflags() & IF) !== 0) {
    // Only HLT with interrupts disabled is a deliberate end; this guest waits for an interrupt nothing will send.
    err.write('ringside: the guest halted with interrupts enabled, and no device can interrupt it\n');
  }
  const waiting = machine.inputWaiting();
  if (keys !== null && waiting.keys > 0) err.write(`ringside: the guest never read ${waiting.keys} of the ${keys.length} keys of --keys\n`);
  if (serialIn !== null && waiting.serialBytes > 0) {
    err.write(`ringside: the guest never read ${waiting.serialBytes} of the ${serialIn.length} bytes of --serial-in\n`);
  }
  if (flags.has('screen')) out.write(screenReport(machine.screen()));
  if (screenshot !== undefined) writeScreenshot(machine.screen(), screenshot);
  // Under the monitor the CPU may hold the deprivileged state (CS with RPL 3): the report is the guest's view.
  const guest = monitor !== null ? monitor.currentGuest() : null;
  const ports: Record<string, number[]> = {};
  for (const [p, bytesWritten] of machine.portRecorder.log) ports['0x' + p.toString(16)] = bytesWritten;
  return {
    stop: reason,
    exitCode,
    instructions: executed,
    idleInstructions: machine.idleInstructions,
    seconds,
    mips: seconds > 0 ? executed / seconds / 1e6 : 0,
    cs: guest !== null ? guest.sel[CS] : machine.cpu.segSel[CS],
    eip: (guest !== null ? guest.eip : machine.cpu.eip) >>> 0,
    ports,
    cpu,
    ...(monitor !== null ? { monitor: monitorSummary(monitor) } : {}),
    ...(keys !== null ? { keysUnread: waiting.keys } : {}),
    ...(serialIn !== null ? { serialInUnread: waiting.serialBytes } : {}),
  };
}

/** --output-times FILE: one line per output byte; a file that cannot be written is a usage error. */
function writeOutputTimes(file: string, lines: string[]): void {
  try {
    writeFileSync(file, lines.length > 0 ? lines.join('\n') + '\n' : '');
  } catch (e) {
    throw new UsageError(`option --output-times: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** --keys TEXT: C escapes, then the keys that type each character (one-line errors for what no key types). */
function parseKeys(text: string | undefined): HostKey[] | null {
  if (text === undefined) return null;
  try {
    return keysForText(unescapeC(text));
  } catch (e) {
    throw new UsageError(`option --keys: ${(e as Error).message}`);
  }
}

/** --serial-in FILE, or - for standard input read to its end before the run (so runs repeat). */
function readSerialInput(file: string): Uint8Array {
  if (file !== '-') return readInputFile(file, 'serial-in');
  try {
    return readFileSync(0);
  } catch (e) {
    throw new UsageError(`option --serial-in: cannot read standard input: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function parseTrace(text: string | undefined): EventName[] {
  if (text === undefined || text === '') return [];
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(EVENT_NAMES as readonly string[]).includes(n)) {
      throw new UsageError(`option --trace: unknown event "${n}" (events: ${EVENT_NAMES.join(', ')})`);
    }
  }
  return names as EventName[];
}
