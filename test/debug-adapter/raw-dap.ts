// A bare DAP wire client for robustness tests: it writes any bytes (including malformed frames) to the adapter's
// stdin and collects every message the adapter writes back.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURES, ROOT } from './dap-client';

export interface DapMessage {
  type: string;
  seq: number;
  request_seq?: number;
  success?: boolean;
  command?: string;
  event?: string;
  message?: string;
  body?: Record<string, unknown>;
}

export class RawDap {
  readonly proc: ChildProcess;
  readonly messages: DapMessage[] = [];
  stderr = '';
  exited: number | null = null;
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private seq = 100;

  constructor() {
    this.proc = spawn(process.execPath, [path.join(FIXTURES, 'ringside-dap.js')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.on('exit', (code) => {
      this.exited = code ?? -1;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /Content-Length: (\d+)/.exec(this.buffer.subarray(0, end).toString());
      const len = Number(m?.[1] ?? 0);
      if (this.buffer.length < end + 4 + len) return;
      this.messages.push(JSON.parse(this.buffer.subarray(end + 4, end + 4 + len).toString()));
      this.buffer = this.buffer.subarray(end + 4 + len);
      this.wake();
    }
  }

  /** Writes bytes as they are, with no framing added. */
  writeBytes(bytes: string | Buffer): void {
    this.proc.stdin!.write(bytes);
  }

  writeRaw(text: string): void {
    this.proc.stdin!.write(`Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  }

  /** Sends a request (any shape) and returns its seq. */
  send(command: unknown, args?: unknown): number {
    const seq = this.seq++;
    this.writeRaw(JSON.stringify({ type: 'request', seq, command, arguments: args }));
    return seq;
  }

  async waitFor(pred: (m: DapMessage) => boolean, ms = 10000): Promise<DapMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.find(pred);
      if (m) return m;
      if (this.exited !== null) throw new Error(`adapter exited with ${this.exited}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  response(seq: number, ms?: number): Promise<DapMessage> {
    return this.waitFor((m) => m.type === 'response' && m.request_seq === seq, ms);
  }

  async request(command: string, args?: unknown): Promise<DapMessage> {
    return this.response(this.send(command, args));
  }

  kill(): void {
    if (this.exited === null) this.proc.kill();
  }
}
