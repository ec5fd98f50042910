// The `ringside` command line (interfaces.md). `ringside dap` is dispatched by bin/ringside.js to the debug
// adapter bundle, so the engine never imports the adapter.

import { runCommand } from './run';

const VERSION = '0.1.0';

const HELP = `ringside ${VERSION} — x86 guest debugger engine

usage:
  ringside run IMAGE [options]        run a guest to completion, without the debugger
  ringside conform DIR|FILE [options] run CPU test vectors in the SingleStepTests MOO format (.MOO, .MOO.gz)
  ringside lockstep IMAGE [options]   run IMAGE bare and under the monitor side by side; report the first divergence
  ringside dap                        serve the Debug Adapter Protocol on stdin/stdout
  ringside --help | --version

run options:
  --format bin|elf|multiboot|rom|boot|linux  image format (default: by content)
  --initrd FILE --append "CMDLINE"      linux: the initial RAM disk and the kernel command line
  --load ADDR --entry ADDR              flat binaries: load address (default 0x7C00) and entry
  --mode real|protected                 start mode for flat binaries and ELF files
  --memory MB                           installed RAM (default 16)
  --max-instructions N                  stop with reason "limit" (exit code 2)
  --monitor  --sbe on|off|auto          run under the monitor
  --trace EVENTS                        comma-separated events printed to stderr: segment-load, descriptor-write,
                                        cache-inconsistent, cache-consistent, monitor-trap, sbe-change,
                                        cpu-exception, triple-fault, mode-change, port-io
  --port-log PORT[,PORT…]               record bytes written to these ports (shown with --json)
  --serial stdout|stderr|off            where COM1 output goes (default stderr; 0xE9 output goes to stdout;
                                        with stdout, the firmware's copy of BIOS text goes to stderr)
  --keys TEXT                           type TEXT (C escapes: \\n \\t \\e \\\\ \\xHH) on the PS/2 keyboard as the guest reads it
  --serial-in FILE|-                    bytes received on COM1 as the guest reads them (- : stdin, read to its end)
  --screen                              after the run, print the text screen on stdout
  --screenshot FILE.png                 after the run, write the screen as a PNG
  --json                                print a JSON summary as the last line of stdout

lockstep options:
  --instructions N  --sbe on|off|auto  --random N [--seed S]  (exit code 4 on a divergence)

conform options:
  --limit N  --filter GLOB  --show N  --json

Guest bytes written to port 0xE9 go to stdout; a write of V to port 0xF4 ends the run with exit code V.
Exit codes: the guest's on exit, 0 on halt, 2 on limit, 3 on triple fault, 1 on error.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return command === undefined ? 1 : 0;
    case '--version':
      process.stdout.write(`ringside ${VERSION}\n`);
      return 0;
    case 'run':
      return runCommand(rest);
    case 'lockstep': {
      const { lockstepCommand } = await import('./lockstep');
      return lockstepCommand(rest);
    }
    case 'conform': {
      const { conformCommand } = await import('./conform');
      return conformCommand(rest);
    }
    default:
      process.stderr.write(`ringside: unknown command "${command}" (see ringside --help)\n`);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`ringside: internal error: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
