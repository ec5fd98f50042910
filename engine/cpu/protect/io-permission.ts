// The protected-mode I/O permission check (SDM vol. 1 §19.5): IN, OUT, INS and OUTS are allowed when CPL ≤ IOPL
// outside virtual-8086 mode; otherwise, and always in virtual-8086 mode, every port byte the access touches must
// have its bit clear in the I/O permission bit map of the current 32-bit TSS.

import type { Cpu } from '../cpu';
import { AR_P, AR_S, AR_TYPE, CR0_PE, TR } from '../cpu';
import { fault, rule, VEC_GP } from '../faults';
import { IOPL, IOPL_SHIFT, VM } from '../flags';

/** Offset in a 32-bit TSS of the word holding the I/O map base (SDM 3A Figure 7-2). */
export const TSS32_IO_MAP_BASE = 0x66;
/** The smallest limit of a 32-bit TSS that includes the I/O map base field (SDM 3A §7.2.2: 67H). */
const TSS32_MIN_LIMIT = 0x67;
/** Types of an available or busy 32-bit TSS (SDM 3A Table 3-2). */
const TYPE_TSS32_AVAILABLE = 0x9;
const TYPE_TSS32_BUSY = 0xb;

const R_IO_NO_TSS32 = rule('io.bitmap.no-tss32', 'I/O permission bit map consulted while TR does not hold a 32-bit TSS', 'SDM 1 §19.5.2');
const R_IO_BEYOND_LIMIT = rule('io.bitmap.beyond-limit', 'the I/O permission bit map bytes for the port lie beyond the TSS limit', 'SDM 1 §19.5.2');
const R_IO_DENIED = rule('io.bitmap.denied', 'a bit for one of the accessed ports is set in the I/O permission bit map', 'SDM 1 §19.5.2');

/** True when IN/OUT/INS/OUTS at the current privilege may skip the bit map (real mode, or CPL ≤ IOPL outside V86). */
export function ioAllowedByIopl(cpu: Cpu): boolean {
  if ((cpu.cr0 & CR0_PE) === 0) return true;
  if ((cpu.flags & VM) !== 0) return false;
  return cpu.cpl <= (cpu.flags & IOPL) >> IOPL_SHIFT;
}

/** Raises #GP(0) unless an access of `size` bytes to `port` is permitted (SDM 1 §19.5.1–19.5.2). */
export function checkIoPermission(cpu: Cpu, port: number, size: number): void {
  if (ioAllowedByIopl(cpu)) return;
  const type = cpu.segAr[TR] & AR_TYPE;
  if (
    cpu.segValid[TR] === 0 ||
    (cpu.segAr[TR] & (AR_P | AR_S)) !== AR_P ||
    (type !== TYPE_TSS32_AVAILABLE && type !== TYPE_TSS32_BUSY) ||
    cpu.segLimit[TR] < TSS32_MIN_LIMIT
  ) {
    fault(VEC_GP, 0, R_IO_NO_TSS32);
  }
  const base = cpu.segBase[TR];
  const mapBase = cpu.readLinear16(base + TSS32_IO_MAP_BASE);
  // The processor always reads two bytes of the map, so both must lie within the limit (SDM 1 §19.5.2).
  const byteOffset = mapBase + (port >>> 3);
  if (byteOffset + 1 > cpu.segLimit[TR]) {
    fault(VEC_GP, 0, R_IO_BEYOND_LIMIT, `port 0x${port.toString(16)}: map byte 0x${byteOffset.toString(16)}, TSS limit 0x${cpu.segLimit[TR].toString(16)}`);
  }
  const bits = cpu.readLinear16(base + byteOffset);
  const wanted = ((1 << size) - 1) << (port & 7);
  if ((bits & wanted) !== 0) fault(VEC_GP, 0, R_IO_DENIED, `port 0x${port.toString(16)} size ${size}`);
}
