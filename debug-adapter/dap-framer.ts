// Splitting the bytes a DAP client writes into messages, robustly. The protocol frames each message as
// `Content-Length: N\r\n\r\n` followed by N bytes of JSON. @vscode/debugadapter's own reader trusts every frame: one
// bad header (a length that is short, negative or not a number, a missing length, LF-only line ends, a lowercase
// name, bytes before the header) leaves it waiting forever, and the adapter is deaf from then on. This reader
// never trusts a frame further than it can check it:
// - header names are matched without regard to case (as HTTP does) and lines may end in LF alone;
// - a header block without a usable Content-Length (missing, not a decimal number, negative, above MAX_BODY_BYTES)
//   is dropped, and so is anything that is not a header: the reader resynchronises on the next `Content-Length:`;
// - a body that is not JSON, or not a JSON object, is dropped; if it holds a `Content-Length:` (the length given was
//   too long and swallowed the next frame) the reader resynchronises there;
// - a body that stays incomplete for BODY_IDLE_MS with no byte arriving (the length given was too long and
//   nothing follows) is dropped.
// Every drop is reported with the bytes dropped, so the session can tell the client and answer a request it can
// recognise in them (see `seqOf`) instead of leaving the client waiting.

/** The largest body accepted (a multi-megabyte breakpoint list fits many times over). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** How long an incomplete body may wait for its next byte before it is dropped. */
export const BODY_IDLE_MS = 2000;
/** How long a header block may grow before it is taken for garbage. */
const MAX_HEADER_BYTES = 1024;
const HEADER_NAME = 'content-length:';

export interface FrameProblem {
  /** What was wrong, in one sentence. */
  reason: string;
  /** The bytes dropped (decoded as UTF-8). */
  dropped: string;
}

export interface FramerSink {
  message(msg: Record<string, unknown>): void;
  problem(p: FrameProblem): void;
}

type Timer = ReturnType<typeof setTimeout>;

export class DapFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Reads that arrived while a body was incomplete, joined once the body is whole (joining at every read of a
   * multi-megabyte body would copy it over and over). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes still missing from a body whose header was read; -1 while looking for a header. */
  private bodyLength = -1;
  private idleTimer: Timer | null = null;

  constructor(
    private readonly sink: FramerSink,
    private readonly idleMs = BODY_IDLE_MS,
  ) {}

  push(data: Buffer): void {
    if (this.bodyLength >= 0 && this.buf.length + this.pendingBytes + data.length < this.bodyLength) {
      this.pending.push(data);
      this.pendingBytes += data.length;
      this.armIdle();
      return;
    }
    this.buf = this.buf.length === 0 && this.pending.length === 0 ? data : Buffer.concat([this.buf, ...this.pending, data]);
    this.pending = [];
    this.pendingBytes = 0;
    this.drain();
  }

  /** Stops the idle timer (the input has ended). */
  close(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private drain(): void {
    for (;;) {
      if (this.bodyLength >= 0) {
        if (this.buf.length < this.bodyLength) break;
        const body = this.buf.subarray(0, this.bodyLength);
        this.buf = this.buf.subarray(this.bodyLength);
        this.bodyLength = -1;
        this.takeBody(body);
        continue;
      }
      if (!this.takeHeader()) break;
    }
    this.armIdle();
  }

  /** Reads one header block at the front of the buffer (after dropping what precedes it); false when more bytes are needed. */
  private takeHeader(): boolean {
    // Usually the header is right at the front; only otherwise is the whole buffer searched (many frames in one
    // read would make a search per frame over all of them quadratic).
    const front = this.buf.toString('latin1', 0, HEADER_NAME.length).toLowerCase() === HEADER_NAME;
    const at = front ? 0 : this.buf.toString('latin1').toLowerCase().indexOf(HEADER_NAME);
    if (at < 0) {
      // Keep a tail that could be the start of a header split across two reads.
      const keep = Math.min(this.buf.length, HEADER_NAME.length - 1);
      if (this.buf.length > keep) this.drop(this.buf.length - keep, 'bytes that are not a DAP header (expected "Content-Length: N")');
      return false;
    }
    if (at > 0) this.drop(at, 'bytes before a "Content-Length:" header');
    const block = this.buf.toString('latin1', 0, Math.min(this.buf.length, MAX_HEADER_BYTES));
    const end = /\r?\n\r?\n/.exec(block);
    if (!end) {
      if (this.buf.length < MAX_HEADER_BYTES) return false;
      this.drop(HEADER_NAME.length, `a header that does not end with an empty line within ${MAX_HEADER_BYTES} bytes`);
      return true;
    }
    const headerBytes = end.index + end[0].length;
    const length = this.contentLength(block.slice(0, end.index));
    if (typeof length === 'string') {
      this.drop(headerBytes, length);
      return true;
    }
    this.buf = this.buf.subarray(headerBytes);
    this.bodyLength = length;
    return true;
  }

  /** The Content-Length of a header block, or why there is none usable. */
  private contentLength(header: string): number | string {
    const values = header
      .split(/\r?\n/)
      .map((line) => /^\s*content-length\s*:\s*(.*?)\s*$/i.exec(line)?.[1])
      .filter((v): v is string => v !== undefined);
    if (values.length === 0) return 'a header without "Content-Length"';
    if (new Set(values).size > 1) return `a header with conflicting Content-Length values (${values.join(', ')})`;
    const v = values[0];
    if (!/^\d+$/.test(v)) return `a header whose Content-Length ${JSON.stringify(v)} is not a byte count`;
    const n = Number(v);
    if (n > MAX_BODY_BYTES) return `a header whose Content-Length ${v} is above the limit of ${MAX_BODY_BYTES} bytes`;
    return n;
  }

  private takeBody(body: Buffer): void {
    const text = body.toString('utf8');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      // A length too long for its body swallows the next frame: start again at its header.
      const cut = body.toString('latin1').toLowerCase().indexOf(HEADER_NAME, 1);
      if (cut > 0) {
        this.sink.problem({ reason: 'a body that is not JSON (is the Content-Length right?)', dropped: body.toString('utf8', 0, cut) });
        this.buf = Buffer.concat([body.subarray(cut), this.buf]);
        return;
      }
      this.sink.problem({ reason: 'a body that is not JSON (is the Content-Length right?)', dropped: text });
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.sink.problem({ reason: 'a body that is not a JSON object', dropped: text });
      return;
    }
    this.sink.message(msg as Record<string, unknown>);
  }

  private drop(bytes: number, reason: string): void {
    this.sink.problem({ reason, dropped: this.buf.toString('utf8', 0, bytes) });
    this.buf = this.buf.subarray(bytes);
  }

  /** While a body is incomplete, drops it once no byte has come for idleMs. */
  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.bodyLength < 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.bodyLength < 0) return;
      const wanted = this.bodyLength;
      this.bodyLength = -1;
      this.buf = Buffer.concat([this.buf, ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
      // The frames the client sent after the bad one are inside: start again at the first of them.
      const next = this.buf.toString('latin1').toLowerCase().indexOf(HEADER_NAME, 1);
      const cut = next > 0 ? next : this.buf.length;
      this.drop(cut, `a body of ${cut} bytes where the header said ${wanted}, with nothing more for ${this.idleMs} ms`);
      this.drain();
    }, this.idleMs);
    this.idleTimer.unref?.();
  }
}

/** The request a dropped piece of input most likely was, so it can be answered: its seq and command. */
export function requestIn(dropped: string): { seq: number; command: string } | null {
  const seq = /"seq"\s*:\s*(\d{1,15})\b/.exec(dropped);
  // A length that cut a body short leaves its tail to be dropped: `"type":"request"` may be in the first part only.
  if (!seq || !/"request"|"command"\s*:/.test(dropped)) return null;
  const command = /"command"\s*:\s*"([^"\\]{0,100})"/.exec(dropped);
  return { seq: Number(seq[1]), command: command?.[1] ?? '' };
}
