// The adapter's DAP reader on malformed input: every kind of bad frame is dropped and reported, and the frames
// after it are still read.
import { describe, expect, it } from 'vitest';
import { DapFramer, MAX_BODY_BYTES, requestIn, type FrameProblem } from '../../debug-adapter/dap-framer';

function frame(body: string): string {
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
const good = (seq: number) => JSON.stringify({ type: 'request', seq, command: 'threads' });

function read(chunks: (string | Buffer)[], idleMs = 50): { messages: Record<string, unknown>[]; problems: FrameProblem[]; framer: DapFramer } {
  const messages: Record<string, unknown>[] = [];
  const problems: FrameProblem[] = [];
  const framer = new DapFramer({ message: (m) => messages.push(m), problem: (p) => problems.push(p) }, idleMs);
  for (const c of chunks) framer.push(typeof c === 'string' ? Buffer.from(c) : c);
  return { messages, problems, framer };
}

const seqs = (ms: Record<string, unknown>[]) => ms.map((m) => m.seq);

describe('DapFramer', () => {
  it('reads well-formed frames, also split across reads byte by byte', () => {
    const text = frame(good(1)) + frame(good(2));
    expect(seqs(read([text]).messages)).toEqual([1, 2]);
    expect(seqs(read([...text].map((c) => c)).messages)).toEqual([1, 2]);
  });

  it('accepts lowercase header names and LF-only line ends', () => {
    const body = good(3);
    const r = read([`content-length: ${body.length}\n\n${body}`, `CONTENT-LENGTH:${body.length}\r\n\r\n${body}`]);
    expect(seqs(r.messages)).toEqual([3, 3]);
    expect(r.problems).toEqual([]);
  });

  it('drops garbage before a header and says how much', () => {
    const r = read(['hello there' + frame(good(4))]);
    expect(seqs(r.messages)).toEqual([4]);
    expect(r.problems).toEqual([{ reason: 'bytes before a "Content-Length:" header', dropped: 'hello there' }]);
  });

  it('drops a header whose length is negative, not a number or missing, and resynchronises on the next header', () => {
    for (const header of ['Content-Length: -5', 'Content-Length: five', 'Content-Length: 1e3', 'X-Thing: 1']) {
      const body = good(9);
      // The missing-length case has no Content-Length to find; a header of another name is garbage before the next.
      const r = read([`${header}\r\n\r\n${body}` + frame(good(5))]);
      expect(seqs(r.messages), header).toEqual([5]);
      expect(r.problems.length, header).toBeGreaterThan(0);
      expect(r.problems.map((p) => p.dropped).join('')).toContain(body);
    }
  });

  it('names the reason for a length that is not a byte count', () => {
    const r = read(['Content-Length: -5\r\n\r\n{}' + frame(good(6))]);
    expect(r.problems[0].reason).toBe('a header whose Content-Length "-5" is not a byte count');
  });

  it('drops a body cut short by a length that is too small; the rest is resynchronised past', () => {
    const body = good(7);
    const r = read([`Content-Length: 10\r\n\r\n${body}` + frame(good(8))]);
    expect(seqs(r.messages)).toEqual([8]);
    expect(r.problems[0].reason).toMatch(/not JSON/);
  });

  it('finds the next frame inside a body made too long by its length', () => {
    const body = good(10);
    const r = read([`Content-Length: ${body.length + 20}\r\n\r\n${body}` + frame(good(11))]);
    expect(seqs(r.messages)).toEqual([11]);
    expect(r.problems[0].dropped).toBe(body);
  });

  it('drops a body that stays incomplete, once nothing more comes', async () => {
    const body = good(12);
    const r = read([`Content-Length: ${body.length + 100}\r\n\r\n${body}`], 30);
    expect(r.problems).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].reason).toMatch(/where the header said/);
    r.framer.push(Buffer.from(frame(good(13))));
    expect(seqs(r.messages)).toEqual([13]);
  });

  it('reads the frames that a body too long for its header swallowed, once nothing more comes', async () => {
    const body = good(16);
    const r = read([`Content-Length: ${body.length + 500}\r\n\r\n${body}` + frame(good(17))], 30);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seqs(r.messages)).toEqual([17]);
    expect(r.problems.map((p) => p.dropped)).toEqual([body]);
  });

  it('drops bodies that are JSON but not an object', () => {
    const r = read([frame('42') + frame('[1,2]') + frame('null') + frame(good(14))]);
    expect(seqs(r.messages)).toEqual([14]);
    expect(r.problems.map((p) => p.reason)).toEqual(Array(3).fill('a body that is not a JSON object'));
  });

  it('refuses a length above the limit without waiting for the body', () => {
    const r = read([`Content-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n` + frame(good(15))]);
    expect(seqs(r.messages)).toEqual([15]);
    expect(r.problems[0].reason).toMatch(/above the limit/);
  });

  it('recognises the request in dropped bytes so it can be answered', () => {
    expect(requestIn('{"type":"request","seq":17,"command":"next","arguments":{}}')).toEqual({ seq: 17, command: 'next' });
    expect(requestIn('{"seq":17')).toBeNull();
    expect(requestIn('garbage')).toBeNull();
  });
});
