// The guest's side of the control transfers the monitor completes in place (in-place-completion.ts): the guest's
// IRET, far RET and far JMP, and the delivery of an external interrupt, by a guest running deprivileged at CPL 0–2. Every interrupt cost two monitor entries (its delivery through the monitor's IDT, reflected into the
// guest's; the guest's IRET, bound by SBE because the real CPU at CPL 3 cannot restore IF or IOPL): Linux's timer and
// device interrupts in its kernel, 10 500 entries per 200 M instructions of its lib/mpi window.
//
// These functions decide whether the guest's transfer is an ordinary one and read its descriptors exactly as a bare
// CPU reads them (protect/iret.ts, protect/protected-return.ts, protect/code-segment.ts, protect/interrupt.ts);
// anything else is left to the monitor's emulation, which raises the guest's fault with its rule or takes the path
// the SDM gives (a task switch, a stack switch, V86 mode). What is left is a transfer within the guest's privilege
// level through a present, accessed GDT code descriptor, to an offset within its limit: it loads CS with the cache
// the descriptor gives (consistent, as the register's look would find it) and changes nothing in the guest's tables.
//
// IRET (SDM 2 IRET — Operation, PROTECTED-MODE-RETURN; the caller checked NT = 0 and read the frame):
//   popped EFLAGS.VM = 1 at CPL 0, 32-bit       RETURN-TO-VIRTUAL-8086-MODE                       → emulated
//   return CS null / TI = 1 / beyond the GDT limit   #GP(0) iret.cs-null, #GP(selector) iret.cs-table-limit (or
//                                               an LDT descriptor)                                → emulated
//   the GDT entry not an ordinary read (in-place-segment.ts ordinaryTableEntry)                  → emulated
//   not a code segment                          #GP(selector)  iret.cs-type                       → emulated
//   RPL < CPL                                   #GP(selector)  iret.cs-rpl-lt-cpl                 → emulated
//   RPL > CPL                                   RETURN-TO-OUTER-PRIVILEGE-LEVEL (SS:ESP popped)   → emulated
//   conforming with DPL > RPL                   #GP(selector)                                     → emulated
//   non-conforming with DPL ≠ RPL               #GP(selector)                                     → emulated
//   not present                                 #NP(selector)                                     → emulated
//   tempEIP beyond the new CS limit             #GP(0)         iret.eip-limit                     → emulated
//   accessed bit clear                          the load sets it in the guest's table (a store)   → emulated
//
// Far RET (SDM 2 RET — Operation, PROTECTED MODE; the caller read the frame): the return CS checks and
// RETURN-TO-SAME-PRIVILEGE-LEVEL are IRET's above (protect/protected-return.ts shares them), ordinarySameLevelReturn.
//
// Far JMP to a code segment (SDM 2 JMP — Operation, far jump in protected mode; protect/far-jmp.ts):
//   selector null / TI = 1 / beyond the GDT limit   #GP(0) far-jmp.null, #GP(selector) far-jmp.table-limit (or
//                                               an LDT descriptor)                                → emulated
//   the GDT entry not an ordinary read                                                           → emulated
//   a call gate, task gate or TSS               a transfer through it (system-target.ts)          → emulated
//   not a code segment                          #GP(selector)  far-jmp.type                       → emulated
//   conforming with DPL > CPL                   #GP(selector)  far-jmp.conforming.dpl             → emulated
//   non-conforming with RPL > CPL or DPL ≠ CPL  #GP(selector)  far-jmp.nonconforming.rpl / .dpl  → emulated
//   not present                                 #NP(selector)  far-jmp.not-present                → emulated
//   tempEIP beyond the new CS limit             #GP(0)         far-jmp.eip-limit                  → emulated
//   accessed bit clear                          the load sets it in the guest's table (a store)   → emulated
// What is left loads CS with RPL = CPL at the guest's own privilege level.
//
// Interrupt delivery (SDM 2 INT n — Operation, PROTECTED-MODE; SDM 3A §6.12.1), an external interrupt (no gate
// DPL check; EXT in any error code):
//   vector × 8 + 7 beyond the IDT limit         #GP(vector × 8 + 2 + EXT)  interrupt.idt-limit    → emulated
//   the IDT entry not an ordinary read                                                           → emulated
//   not an interrupt or trap gate               #GP  interrupt.gate-type; a task gate: a task switch → emulated
//   gate not present                            #NP  interrupt.gate-not-present                   → emulated
//   code selector null / TI = 1 / beyond the GDT limit, the entry not an ordinary read          → emulated
//   not a code segment                          #GP(selector + EXT)  interrupt.cs-type            → emulated
//   code DPL > CPL                              #GP(selector + EXT)  interrupt.cs-dpl             → emulated
//   code segment not present                    #NP(selector + EXT)  interrupt.cs-not-present     → emulated
//   non-conforming with DPL < CPL               INTER-PRIVILEGE-LEVEL-INTERRUPT (the TSS's stack) → emulated
//   gate offset beyond the code segment limit   #GP(EXT)  interrupt.eip-limit                     → emulated
//   accessed bit clear                          the load sets it (a store)                        → emulated
// What is left is INTRA-PRIVILEGE-LEVEL-INTERRUPT; its stack check (#SS(EXT)) is the monitor's (the real CPU's SS
// has the guest's base, limit and type).

import type { PhysicalMemory } from '../bus/memory';
import { decodeDescriptor, DESCRIPTOR_HI_ACCESSED, type Descriptor } from '../cpu/protect/descriptor';
import type { Tlb } from '../cpu/protect/tlb';
import type { GuestState } from './guest-state';
import { ordinaryGdtDescriptor, ordinaryTableEntry } from './in-place-segment';

/**
 * Whether the guest's protected-mode IRET to `selector`:`eip` (NT = 0, no return to V86 mode) is an ordinary return
 * to its own privilege level (see above); the new CS's descriptor is then in `out`.
 */
export function ordinarySameLevelReturn(mem: PhysicalMemory, g: GuestState, guestTlb: Tlb, a20Mask: number, selector: number, eip: number, out: Descriptor): boolean {
  const d = ordinaryGdtDescriptor(mem, g, guestTlb, a20Mask, selector, out);
  if (d === null) return false;
  const rpl = selector & 3;
  // IF return code segment descriptor is not a code segment THEN #GP(selector)
  if (!d.isCode) return false;
  // IF RPL < CPL THEN #GP(selector); IF RPL > CPL THEN RETURN-TO-OUTER-PRIVILEGE-LEVEL
  if (rpl !== g.cpl) return false;
  // IF conforming and DPL > RPL THEN #GP(selector); IF non-conforming and DPL ≠ RPL THEN #GP(selector)
  if (d.conforming ? d.dpl > rpl : d.dpl !== rpl) return false;
  // IF return code segment descriptor is not present THEN #NP(selector)
  if (!d.p) return false;
  // RETURN-TO-SAME-PRIVILEGE-LEVEL: IF tempEIP is not within code segment limits THEN #GP(0)
  if (eip > d.limit) return false;
  // The processor sets the accessed bit of a descriptor it loads (SDM 3A §3.4.5.1): a store into the guest's table.
  return (d.hi & DESCRIPTOR_HI_ACCESSED) !== 0;
}

/**
 * Whether the guest's protected-mode far JMP to `selector`:`eip` (EIP as the operand size makes it) is a direct jump
 * to a code segment at its own privilege level (see above); the new CS's descriptor is then in `out`.
 */
export function ordinaryFarJump(mem: PhysicalMemory, g: GuestState, guestTlb: Tlb, a20Mask: number, selector: number, eip: number, out: Descriptor): boolean {
  const d = ordinaryGdtDescriptor(mem, g, guestTlb, a20Mask, selector, out);
  if (d === null) return false;
  // A call gate, task gate or TSS: the transfer through it; IF not a code segment THEN #GP(selector)
  if (!d.isCode) return false;
  if (d.conforming) {
    // IF DPL > CPL THEN #GP(segment selector)
    if (d.dpl > g.cpl) return false;
  } else {
    // IF RPL > CPL OR DPL ≠ CPL THEN #GP(code segment selector)
    if ((selector & 3) > g.cpl || d.dpl !== g.cpl) return false;
  }
  // IF segment not present THEN #NP(segment selector)
  if (!d.p) return false;
  // IF tempEIP not in code segment limit THEN #GP(0)
  if (eip > d.limit) return false;
  // The processor sets the accessed bit of a descriptor it loads (SDM 3A §3.4.5.1): a store into the guest's table.
  return (d.hi & DESCRIPTOR_HI_ACCESSED) !== 0;
}

/**
 * Whether the delivery of external interrupt `vector` to the guest at its CPL is an ordinary one through an
 * interrupt or trap gate of its IDT to a handler at its own privilege level (see above); the gate is then in
 * `gate` and the handler's code descriptor in `code`.
 */
export function ordinaryInterruptGate(mem: PhysicalMemory, g: GuestState, guestTlb: Tlb, a20Mask: number, vector: number, gate: Descriptor, code: Descriptor): boolean {
  const entry = vector * 8;
  // IF vector number × 8 + 7 is not within the IDT limits THEN #GP(vector × 8 + 2 + EXT)
  if (entry + 7 > g.idtrLimit) return false;
  const phys = ordinaryTableEntry(mem, g, guestTlb, a20Mask, (g.idtrBase + entry) >>> 0);
  if (phys < 0) return false;
  decodeDescriptor(mem.readSystem32(phys), mem.readSystem32(phys + 4), gate);
  // IF descriptor is not an interrupt, trap, or task gate THEN #GP; a task gate switches tasks
  if (gate.kind !== 'interrupt-gate' && gate.kind !== 'trap-gate') return false;
  // IF gate not present THEN #NP(vector × 8 + 2 + EXT)
  if (!gate.p) return false;
  // IF new code segment selector is NULL THEN #GP(EXT); index not within its descriptor table limits: #GP(selector)
  const d = ordinaryGdtDescriptor(mem, g, guestTlb, a20Mask, gate.selector, code);
  if (d === null) return false;
  // IF descriptor does not indicate a code segment THEN #GP(selector + EXT)
  if (!d.isCode) return false;
  // IF new code segment DPL > CPL THEN #GP(selector + EXT); non-conforming with DPL < CPL: INTER-PRIVILEGE-LEVEL
  if (d.conforming ? d.dpl > g.cpl : d.dpl !== g.cpl) return false;
  // IF new code segment is not present THEN #NP(selector + EXT)
  if (!d.p) return false;
  // IF instruction pointer not within code segment limits THEN #GP(EXT)
  if (gate.offset > d.limit) return false;
  return (d.hi & DESCRIPTOR_HI_ACCESSED) !== 0;
}
