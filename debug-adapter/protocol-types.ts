// Ringside's additions to the Debug Adapter Protocol: the custom requests and events that the VS Code extension's
// views use, shared by the adapter (which answers/sends them) and the extension (which asks/listens). Plain types
// only, so that both sides (and the tests) import this file without pulling in VS Code or the DAP packages.
//
// Numbers are numbers here (not the `0x…` strings of the Variables pane): the views do arithmetic on them.

/** Names of the trace events of design/model.md §5 (the engine's list); the `kind` of a `ringside/event`. */
import type { EventName } from '../engine/events';
export { EVENT_NAMES as TRACE_EVENT_NAMES } from '../engine/events';
export type TraceEventName = EventName;

/** Custom request: the segment registers with their caches and table entries at the current stop. */
export const SEGMENT_MAP_REQUEST = 'ringside/segmentMap';
/** Custom request from the extension: bytes typed into the COM1 terminal, for the guest's UART receive buffer. */
export const SERIAL_INPUT_REQUEST = 'ringside/serialInput';
/** Custom request: the guest's screen now (text cells or a PNG of the framebuffer), for the Screen view. */
export const SCREEN_REQUEST = 'ringside/screen';
/** Custom request from the Screen view: text typed there, for the guest's PS/2 keyboard. */
export const KEYS_REQUEST = 'ringside/keys';
/** Travels to a moment of the run so far: `{ "instructions": N }` of guest time since launch (interfaces.md). */
export const GOTO_REQUEST = 'ringside/goto';
/** Sent before each stopped event: the moment the guest stopped at (`MomentEventBody`). */
export const MOMENT_EVENT = 'ringside/moment';

/** Body of `ringside/moment`: guest time since launch, and the ordinal of the last timeline event before it. */
export interface MomentEventBody {
  instructions: number;
  eventOrdinal: number;
}
/** Custom event: one engine/monitor event while the guest runs (the Event Timeline's kinds and the traced ones, a bounded number per slice). */
export const TRACE_EVENT = 'ringside/event';
/** Custom event: bytes the guest wrote to COM1, sent only when the launch configuration says `serial: "terminal"`. */
export const SERIAL_EVENT = 'ringside/serial';
/** Custom event: a line of the adapter's own log, at or above the level of the RINGSIDE_LOG_LEVEL environment. */
export const LOG_EVENT = 'ringside/log';

/** Environment variable through which the extension tells the adapter process its log level. */
export const LOG_LEVEL_ENV = 'RINGSIDE_LOG_LEVEL';
export const LOG_LEVELS = ['off', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A decoded segment descriptor or hidden cache; `limit` is in bytes, already scaled by G. */
export interface SegmentFields {
  base: number;
  limit: number;
  /** The 4-bit type field (SDM Vol. 3 §3.4.5.1 for S=1, Table 3-2 for system descriptors). */
  type: number;
  s: boolean;
  dpl: number;
  p: boolean;
  db: boolean;
  g: boolean;
  avl: boolean;
  usable: boolean;
}

export type SegmentRegisterName = 'CS' | 'SS' | 'DS' | 'ES' | 'FS' | 'GS' | 'LDTR' | 'TR';

export interface SegmentRegisterView {
  name: SegmentRegisterName;
  selector: number;
  cache: SegmentFields;
  /** The descriptor the selector names now; null for a null selector, one past the table limit, or in real mode. */
  tableEntry: SegmentFields | null;
  consistent: boolean;
  /** Names of the `SegmentFields` members in which the cache and the table entry differ. */
  differs: string[];
  /** Under the monitor: the entry at the same index in the virtual GDT (null when there is none). */
  virtualEntry?: SegmentFields | null;
}

export interface DescriptorTableEntryView {
  index: number;
  /** The descriptor's two doublewords as stored: [low, high]. */
  raw: [number, number];
  fields: SegmentFields;
}

/** Response body of `ringside/segmentMap`. */
export interface SegmentMapResponseBody {
  mode: 'real' | 'protected' | 'v86';
  cpl: number;
  monitor: boolean;
  registers: SegmentRegisterView[];
  gdtr: { base: number; limit: number };
  gdt: DescriptorTableEntryView[];
  /** Under the monitor: the virtual GDT the CPU really uses, index by index beside `gdt`. */
  virtualGdt?: DescriptorTableEntryView[];
}

/** Body of the `ringside/event` event. */
export interface TraceEventBody {
  kind: TraceEventName;
  /** One line in the words of a trace line, e.g. `DS 0x0010 -> 0x0018 cause=mov`. */
  summary: string;
  cs: number;
  eip: number;
  /** The event's fields as the engine reports them (register, old/new selector and cache, cause, vector, ...). */
  detail: Record<string, unknown>;
}

/** Body of the `ringside/serial` event: bytes as a string of char codes 0–255. */
export interface SerialEventBody {
  data: string;
}

/**
 * Arguments of the `ringside/serialInput` request: bytes for COM1 as a string of char codes 0–255 (text is sent
 * UTF-8 encoded). A character above 0xFF fails the request and queues nothing. At most 64 KiB wait for the guest
 * to read them: past that the request fails with a message saying how many of its first bytes were queued.
 */
export interface SerialInputArguments {
  data: string;
}

/** Body of the `ringside/log` event. */
export interface LogEventBody {
  level: Exclude<LogLevel, 'off'>;
  message: string;
}

/** Response body of `ringside/screen`. */
export type ScreenResponseBody =
  | {
      kind: 'text';
      columns: number;
      rows: number;
      /** rows × columns cells, each `character | attribute << 8` (code page 437 characters, VGA attributes). */
      cells: number[];
      cursor: { row: number; column: number } | null;
      /** Guest time in instructions when the screen was read. */
      instructions: number;
      running: boolean;
    }
  | {
      kind: 'graphics';
      width: number;
      height: number;
      mode: string;
      /** The framebuffer as a base64 PNG; null for a mode this machine does not draw. */
      png: string | null;
      instructions: number;
      running: boolean;
    };

/** Arguments of the `ringside/keys` request: text to type (characters, not escapes). */
export interface KeysArguments {
  text: string;
}
