// The trap loop both monitor benchmarks run (bench/monitor.mjs, bench/monitor-entry.mjs): ring 0, every iteration
// reloads DS, which SBE binds to the monitor, so each iteration is one monitor entry (delivery, emulation,
// consistency, the return sequence). The selector is the runtime's LDT data segment (0x14): a GDT selector's load is
// completed in place, without an entry (engine/monitor/in-place-segment.ts).

/** The loop's image for `engine` with `iterations` iterations, and how to load it. */
export function trapLoop(engine, iterations) {
  const e = engine.slotEncoders;
  const image = engine.programFromSlots([
    [0xb9, ...e.le32(iterations)], // mov ecx, iterations
    [0x66, 0xb8, 0x14, 0x00, 0x8e, 0xd8, 0x49, 0x75, 0xf7], // .l: mov ax, 0x14; mov ds, ax; dec ecx; jnz .l
  ]).image;
  const load = { format: 'bin', loadAddress: engine.PROGRAM_BASE, entry: engine.PROGRAM_BASE, mode: 'protected' };
  return { image, load };
}
