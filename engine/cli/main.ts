// The `ringside` command line (interfaces.md). `ringside dap` is dispatched by bin/ringside.js to the debug
// adapter bundle, so the engine never imports the adapter.

import { runCommand } from './run';

const VERSION = '0.1.0';

const COMMANDS = `usage:
  ringside run IMAGE [options]        run a guest to completion, without the debugger
  ringside conform DIR|FILE [options] run CPU test vectors in the SingleStepTests MOO format (.MOO, .MOO.gz)
  ringside lockstep IMAGE [options]   run IMAGE bare and under the monitor side by side; report the first divergence
  ringside dap                        serve the Debug Adapter Protocol on stdin/stdout
  ringside fuzz guest|images [options] the project's fuzzers: generated guest code, mutated images
  ringside --help | --version
  ringside COMMAND --help             the usage of one command
`;

const RUN_OPTIONS = `run options:
  --format bin|elf|multiboot|rom|boot|linux  image format (default: by content)
  --initrd FILE --append "CMDLINE"      linux: the initial RAM disk and the kernel command line
  --load ADDR --entry ADDR              flat binaries: load address (default 0x7C00) and entry
  --mode real|protected                 start mode for flat binaries and ELF files
  --cpu 486sx|486dx|pentium|pentium-pro   CPU model: CPUID and instruction set (default pentium-pro)
  --memory MB                           installed RAM (default 16, at most 3072)
  --disk FILE                           a further ATA disk (repeatable: primary slave, secondary master,
                                        secondary slave); writes go to an overlay, the file is never changed
  --max-instructions N                  stop with reason "limit" (exit code 2)
  --monitor  --sbe on|off|auto          run under the monitor
  --trace EVENTS                        comma-separated events printed to stderr: segment-load, descriptor-write,
                                        cache-inconsistent, cache-consistent, monitor-trap, sbe-change,
                                        cpu-exception, triple-fault, mode-change, port-io
  --port-log PORT[,PORT…]               record bytes written to these ports (shown with --json)
  --serial stdout|stderr|off            where COM1 output goes (default stderr; 0xE9 output goes to stdout;
                                        with stdout, the firmware's copy of BIOS text goes to stderr)
  --keys TEXT                           type TEXT (C escapes: \\n \\t \\e \\\\ \\xHH) on the PS/2 keyboard as the guest reads it,
                                        each line once the guest waits for input (idles or polls the keyboard)
  --serial-in FILE|-                    bytes received on COM1 as the guest reads them (- : stdin, read to its end)
  --output-times FILE                   write one line per output byte (port E9h and COM1): the guest time
                                        (instructions) it left at, the channel (e9|com1) and the byte in hex
  --screen                              after the run, print the text screen on stdout
  --screenshot FILE.png                 after the run, write the screen as a PNG
  --json                                print a JSON summary as the last line of stdout (on a line of its own)
`;

const LOCKSTEP_OPTIONS = `lockstep options:
  --instructions N  --sbe on|off|auto  --random N [--seed S]  (exit code 4 on a divergence)
  --free-run [--slice N]   also compare running freely (slices, translation) with stepping, bare and monitored
  --format --load --entry --mode --memory --disk --cpu   as for run
`;

const FUZZ_OPTIONS = `fuzz options:
  --runs N  --seed S  --seconds T  --instructions N  --out DIR  --json  (exit code 4 when something was found)
`;

const CONFORM_OPTIONS = `conform options:
  --limit N  --filter GLOB  --show N  --json
  (exit code 0 only when tests ran and none failed; an empty folder or a filter matching nothing exits 1)
`;

const EXIT_CODES = `Guest bytes written to port 0xE9 go to stdout; a write of V to port 0xF4 ends the run with exit code V.
Exit codes: the guest's on exit, 0 on halt, 2 on limit, 3 on triple fault, 1 on error.
`;

const HELP = `ringside ${VERSION} — x86 guest debugger engine

${COMMANDS}
${RUN_OPTIONS}
${LOCKSTEP_OPTIONS}
${FUZZ_OPTIONS}
${CONFORM_OPTIONS}
${EXIT_CODES}`;

/** What `ringside COMMAND --help` (or -h) prints. */
const COMMAND_HELP: Record<string, string> = {
  run: `usage: ringside run IMAGE [options]   run a guest to completion, without the debugger\n\n${RUN_OPTIONS}\n${EXIT_CODES}`,
  lockstep: `usage: ringside lockstep IMAGE [options] | --random N [--seed S]   run bare and monitored side by side\n\n${LOCKSTEP_OPTIONS}`,
  conform: `usage: ringside conform DIR|FILE [options]   run CPU test vectors (.MOO, .MOO.gz)\n\n${CONFORM_OPTIONS}`,
  dap: `usage: ringside dap   serve the Debug Adapter Protocol on stdin/stdout (for VS Code and other DAP clients)\n`,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && Object.hasOwn(COMMAND_HELP, command) && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(COMMAND_HELP[command]);
    return 0;
  }
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
    case 'fuzz': {
      const { fuzzCommand } = await import('./fuzz');
      return fuzzCommand(rest);
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
