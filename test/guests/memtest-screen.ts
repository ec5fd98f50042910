// What memtest86+ shows on its screen, read from `--screen` text: banner, measured clock, elapsed time, memory.

interface MemtestScreen {
  banner: boolean;
  clockMHz: number | null;
  elapsedSeconds: number | null;
  memoryMB: number | null;
}

export function readMemtestScreen(screen: string): MemtestScreen {
  const clock = /CLK(?:\/Temp)?:\s*(\d+)\s*MHz/.exec(screen);
  const time = /Time:\s*(\d+):(\d\d):(\d\d)/.exec(screen);
  const memory = /Memory\s*:\s*(\d+)\s*MB/.exec(screen);
  return {
    banner: /Memtest86\+ v\d/.test(screen),
    clockMHz: clock ? Number(clock[1]) : null,
    elapsedSeconds: time ? Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3]) : null,
    memoryMB: memory ? Number(memory[1]) : null,
  };
}
