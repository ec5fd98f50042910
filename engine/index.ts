// The engine's public API for tools outside engine/ (benchmarks, the debug adapter, tests).

export { Machine, type MachineOptions, type RunResult, type StopReason, type MachineSnapshot } from './machine/machine';
export { Cpu, SEGMENT_NAMES } from './cpu/cpu';
export { EVENT_NAMES, type EventName, type EventMap } from './events';
export { formatEvent } from './trace';
export { loadImage, detectFormat, ImageError, type LoadOptions, type LoadedImage } from './machine/loaders';
export { attachMonitor, Monitor, type MonitorOptions, type SbeMode, type ReturnRecord } from './monitor/monitor';
export { monitorSnapshot, monitorSummary, type MonitorSnapshot, type MonitorSummary } from './monitor/inspect';
export { lockstep, describeDivergence, type LockstepResult } from './monitor/lockstep';
export { randomProgram, programFromSlots, encode as slotEncoders, slotAddress, PROGRAM_BASE } from './monitor/random-program';
