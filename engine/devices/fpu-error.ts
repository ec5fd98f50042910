// The PC's coprocessor-error wiring (SDM vol. 1 §D.2.1, "MS-DOS compatibility" reporting with CR0.NE = 0): the
// CPU's FERR# output drives IRQ13, and a write of any value to port F0h clears the latch (on the AT, it also
// asserted IGNNE# so the waiting instruction could go on, which Ringside's FPU does by itself).

import type { Cpu } from '../cpu/cpu';
import type { IoBus } from '../bus/io-bus';

export const FPU_ERROR_IRQ = 13;
export const FPU_ERROR_PORT = 0xf0;

export function attachFpuError(cpu: Cpu, io: IoBus, setIrq: (level: boolean) => void): void {
  cpu.onFerr = (level) => setIrq(level);
  io.register(FPU_ERROR_PORT, 1, {
    portIn: () => 0xff,
    portOut: () => {
      cpu.fpu.ferr = false;
      setIrq(false);
    },
  });
}
