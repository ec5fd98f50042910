// `ringside dap`: the debug adapter on stdin/stdout. A bug in a handler is answered as an error response by the
// session; anything that still escapes is logged to stderr instead of ending the process with the session.
import { PassThrough } from 'node:stream';
import { RingsideSession } from './session';
import { DapFramer } from './dap-framer';

// stdout carries the protocol: a stray console.log anywhere in the process would corrupt it, so console output
// goes to stderr.
for (const name of ['log', 'info', 'debug', 'warn'] as const) {
  console[name] = (...args: unknown[]) => void process.stderr.write(args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ') + '\n');
}
process.on('uncaughtException', (e) => process.stderr.write(`ringside dap: uncaught: ${e?.stack ?? String(e)}\n`));
process.on('unhandledRejection', (e) => process.stderr.write(`ringside dap: unhandled rejection: ${String(e)}\n`));

const session = new RingsideSession();
session.setRunAsServer(false);
// The library's own reader goes deaf after one malformed frame, so it gets no bytes: stdin goes through our framer
// (dap-framer.ts), which hands the session whole messages. The stand-in stream only carries the end of input.
const input = new PassThrough();
session.start(input, process.stdout);
const framer = new DapFramer({
  message: (msg) => {
    if (msg.type === 'request' || msg.type === 'response') session.handleMessage(msg as never);
    else session.reportDroppedInput({ reason: `a message of type ${JSON.stringify(msg.type ?? null)} (a client sends "request" or "response")`, dropped: JSON.stringify(msg) });
  },
  problem: (p) => session.reportDroppedInput(p),
});
process.stdin.on('data', (d: Buffer) => framer.push(d));
process.stdin.on('end', () => {
  framer.close();
  input.destroy();
});
