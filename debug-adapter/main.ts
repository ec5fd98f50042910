// `ringside dap`: the debug adapter on stdin/stdout. A bug in a handler is answered as an error response by the
// session; anything that still escapes is logged to stderr instead of ending the process with the session.
import { RingsideSession } from './session';

// stdout carries the protocol: a stray console.log anywhere in the process would corrupt it, so console output
// goes to stderr.
for (const name of ['log', 'info', 'debug', 'warn'] as const) {
  console[name] = (...args: unknown[]) => void process.stderr.write(args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ') + '\n');
}
process.on('uncaughtException', (e) => process.stderr.write(`ringside dap: uncaught: ${e?.stack ?? String(e)}\n`));
process.on('unhandledRejection', (e) => process.stderr.write(`ringside dap: unhandled rejection: ${String(e)}\n`));

const session = new RingsideSession();
session.setRunAsServer(false);
session.start(process.stdin, process.stdout);
