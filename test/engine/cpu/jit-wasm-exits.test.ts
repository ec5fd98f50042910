// How WebAssembly blocks leave (jit/wasm/gen.ts, block.ts): a fault raised by the instruction a block leaves to the
// interpreter (at that instruction, with the instructions before it retired), a store into the block's own code
// page, a RET past the CS limit, and budgets that end inside a block's loop. Each program runs on a reference CPU
// interpreting everything and on one with wasm blocks only; state, icount and memory must be equal.

import { describe, expect, it } from 'vitest';
import { flat32, GDT_BASE, writeDescriptor, type TestMachine } from './harness';
import { AR_DB, AR_DPL_SHIFT, AR_G, AR_P, AR_S, CS, DS, ES, FS, GS, SS, TR, type Cpu } from '../../../engine/cpu/cpu';
import { IOPL, IOPL_SHIFT } from '../../../engine/cpu/flags';
import { CR4_TSD } from '../../../engine/cpu/model';
import { cpuState, setInterruptGate } from './jit-lockstep-harness';
import { assemble, HAS_NASM } from './move-fixtures';
import { countWasmRetired, wasmOnly } from './jit-wasm-harness';
import { linkedRuns } from '../../../engine/cpu/jit/wasm/link';

const ORG = 0x10000;
const IDT = 0x800;
/** Offset from ORG of the fault handlers, `hlt`. */
const HANDLER = 0x3000;

/** A device at ports 0x60–0x6F for both CPUs of a test: reads see the devices' clock, writes may raise INTR. */
type PortSetup = (m: TestMachine) => void;

function machine(source: string, memBytes = 1 << 20, ports: PortSetup = () => undefined): TestMachine {
  const code = assemble(`${source}\ntimes 0x${HANDLER.toString(16)} - ($ - $$) db 0x90\nhandler: hlt`, 32, ORG);
  const m = flat32(code, ORG, memBytes);
  m.cpu.idtrBase = IDT;
  m.cpu.idtrLimit = 256 * 8 - 1;
  for (const v of [0, 6, 13, 0x20]) setInterruptGate(m, v, ORG + HANDLER);
  ports(m);
  return m;
}

/** Runs `source` interpreted and with wasm blocks, in slices of `slice`, to its HLT; returns the wasm CPU. */
function bothWays(
  source: string,
  slice: number,
  prepare: (cpu: Cpu) => void = () => undefined,
  memBytes?: number,
  ports?: PortSetup,
): { cpu: Cpu; inWasm: number; entries: number; ref: Cpu } {
  const ref = machine(source, memBytes, ports);
  const jit = machine(source, memBytes, ports);
  ref.cpu.jit = false;
  prepare(ref.cpu);
  prepare(jit.cpu);
  wasmOnly(jit.cpu);
  const counter = countWasmRetired(jit.cpu);
  for (let k = 0; k < 100_000 && !ref.cpu.halted; k++) {
    const a = ref.cpu.run(slice);
    const b = jit.cpu.run(slice);
    expect(b).toBe(a);
    expect(cpuState(jit.cpu)).toEqual(cpuState(ref.cpu));
  }
  expect(ref.cpu.halted).toBe(true);
  expect(Buffer.compare(ref.mem.u8, jit.mem.u8)).toBe(0);
  return { cpu: jit.cpu, inWasm: counter.retired, entries: counter.entries, ref: ref.cpu };
}

describe.skipIf(!HAS_NASM)('wasm block exits', () => {
  it('a #DE raised by a DIV in a block (which leaves for the interpreter there), after the instructions before it', () => {
    const src = `
      mov ecx, 300
      mov esi, 0
    top:
      add esi, ecx
      inc edi
      dec ecx
      mov eax, 100000
      xor edx, edx
      div ecx
      add ebx, eax
      jmp top
    `;
    // (Slices longer than the block's pass of 8, the DIV in its middle.)
    for (const slice of [13, 50]) {
      const { cpu, inWasm } = bothWays(src, slice);
      expect(cpu.regs[1]).toBe(0); // the fault came on the pass where ECX reached 0
      expect(inWasm).toBeGreaterThan(10);
    }
    // IDIV of EDX:EAX = −2^63 by −1 (on the pass where ECX is 1; 0 by −1 before): the quotient 2^63 does not fit.
    const overflow = `
      mov ecx, 300
      mov ebx, -1
    top:
      add esi, ecx
      xor eax, eax
      xor edx, edx
      cmp ecx, 1
      sete dl
      shl edx, 31
      idiv ebx
      add edi, eax
      dec ecx
      jmp top
    `;
    for (const slice of [13, 50]) {
      const { cpu, inWasm } = bothWays(overflow, slice);
      expect(cpu.regs[1]).toBe(1);
      expect(inWasm).toBeGreaterThan(500);
    }
  });

  it('instructions a block calls the interpreter for run inside it: the block goes on after them and repeats', () => {
    // RCL by CL, LAHF and SAHF are no wasm forms: each runs by its handler from inside the block, between
    // translated instructions whose flags are lazy or eager as they come (RCL reads ADD's CF, SETC reads RCL's);
    // CMOVZ, SHL by CL, BSWAP, CDQ, SHLD, BT, DIV and the ADD through FS (a base other than 0, the whole 4 GiB
    // window) are wasm forms.
    const src = `
      mov ecx, 400
      mov ebp, 7
    top:
      add eax, ecx
      cmovz edx, ecx
      shl eax, cl
      adc esi, eax
      bswap esi
      cdq
      shld edx, esi, cl
      add esi, ecx
      rcl edx, cl
      setc bl
      lahf
      xor ah, 1
      sahf
      add [fs:0x100], edx
      mov eax, 0x12345
      xor edx, edx
      div ebp
      add edi, edx
      dec ecx
      jnz top
      hlt
    `;
    const fsBase = (cpu: Cpu): void => cpu.loadSegmentCache(FS, 0x10, 0x3000, 0xffffffff, AR_P | AR_S | 0x3 | AR_DB | AR_G, true, 'loader');
    for (const slice of [7, 50, 1000]) {
      const { inWasm, entries } = bothWays(src, slice, fsBase);
      if (slice === 7) continue; // (less than a pass of 19: no block runs)
      expect(inWasm).toBeGreaterThan(4000);
      // Passes of 19 repeat inside one run of the block as far as the budget allows.
      expect(inWasm / entries).toBeGreaterThan(slice === 50 ? 25 : 500);
    }
  });

  it('segments with a base: a window short of 4 GiB leaves for the interpreter (the #GP past the limit there), a stack segment with a base keeps PUSH and POP out of wasm', () => {
    // GS: base 0x3000, limit 0x7FF; the loop's offsets climb past the limit on its last passes. SS: base 0x1000.
    const src = `
      mov ecx, 0
    top:
      add [gs:ecx*4], ecx
      mov eax, [fs:ecx*4 + 0x40]
      add eax, 0x1234
      push eax
      add esi, eax
      pop edx
      add edi, edx
      inc ecx
      jmp top
    `;
    const segments = (cpu: Cpu): void => {
      const ar = AR_P | AR_S | 0x3 | AR_DB;
      cpu.loadSegmentCache(GS, 0x10, 0x3000, 0x7ff, ar, true, 'loader');
      cpu.loadSegmentCache(FS, 0x10, 0x2000, 0xffffffff, ar | AR_G, true, 'loader');
      cpu.loadSegmentCache(SS, 0x10, 0x1000, 0xffffffff, ar | AR_G, true, 'loader');
      cpu.regs[4] = 0x8000;
    };
    for (const slice of [13, 50]) {
      const { cpu, ref } = bothWays(src, slice, segments);
      expect(ref.eip).toBe(ORG + HANDLER + 1); // the #GP came
      expect(cpu.regs[1]).toBe(0x200); // at the access of 4 bytes at offset 0x800
    }
  });

  it('IN, OUT, RDTSC, CLI and STI inside a block: devices and the TSC see the instruction counts the interpreter gives them, and an interrupt raised under CLI is taken after the instruction after STI', () => {
    // Port 0x61 reads the CPU's clock (icount + jitRetired, as the machine's devices do); port 0x62 raises INTR on
    // the 300th write, under CLI; the handler (vector 0x20 from the test's interrupt controller) halts.
    const ports: PortSetup = (m) => {
      let writes = 0;
      m.cpu.io.register(0x61, 2, {
        portIn: () => (m.cpu.icount + m.cpu.jitRetired) & 0xff,
        portOut: () => {
          if (++writes === 300) m.cpu.setIntrLine(true);
        },
      });
      m.cpu.acknowledgeInterrupt = () => 0x20;
    };
    const src = `
      mov ecx, 1000
      sti
    top:
      in al, 0x61
      add esi, eax
      test al, 0x20
      jz top
      cli
      out 0x62, al
      rdtsc
      add edi, eax
      sti
      dec ecx
      jnz top
      hlt
    `;
    for (const slice of [13, 50, 1000]) {
      const { cpu, ref, inWasm, entries } = bothWays(src, slice, () => undefined, undefined, ports);
      expect(ref.eip).toBe(ORG + HANDLER + 1); // the interrupt came
      expect(cpu.regs[6]).toBe(ref.regs[6]);
      expect(cpu.regs[1]).toBe(700); // after the DEC following the STI of the 300th pass
      expect(inWasm).toBeGreaterThan(1000);
      if (slice === 1000) expect(inWasm / entries).toBeGreaterThan(6); // (the loop on IN repeats inside its block)
    }
  });

  it('RDTSC and CLI of a block built at CPL 0 and run at CPL 1: #GP at the instruction under CR4.TSD or IOPL 0, in wasm with IOPL 1', () => {
    // The subroutine runs 200 times at CPL 0 (its wasm block is built there), then the program sets CR4 as the case
    // says and goes to CPL 1 by a far RET, through a code and a stack segment of DPL 1 over the same flat memory: the
    // block key (CPL 3 or not, flat segments) is the same, so the same block runs there. RDTSC then raises #GP under
    // CR4.TSD, CLI under IOPL 0 (SDM 2B RDTSC, 2A CLI); with IOPL 1 both run, and the HLT at the end raises it. The
    // #GP handler (CPL 0: the TSS gives its stack) halts.
    const TSS = 0x30000;
    const ring1 = (cpu: Cpu, iopl: number): void => {
      const data = AR_P | AR_S | 0x3 | AR_DB | AR_G;
      writeDescriptor(cpu.mem, GDT_BASE + 0x28, 0, 0xfffff, 0xb, { g: true, dpl: 1 });
      writeDescriptor(cpu.mem, GDT_BASE + 0x30, 0, 0xfffff, 0x3, { g: true, dpl: 1 });
      // DS and ES of DPL 3: the far RET to CPL 1 keeps them (it nulls those of a DPL below the new CPL).
      for (const seg of [DS, ES]) cpu.loadSegmentCache(seg, 0x3b, 0, 0xffffffff, data | (3 << AR_DPL_SHIFT), true, 'loader');
      cpu.mem.write32(TSS + 4, 0x8f000); // ESP0
      cpu.mem.write32(TSS + 8, 0x10); // SS0
      cpu.loadSegmentCache(TR, 0x40, TSS, 0x67, AR_P | 0xb, true, 'loader');
      cpu.setEflags((cpu.getEflags() & ~IOPL) | (iopl << IOPL_SHIFT));
    };
    const src = (cr4: number): string => `
      mov ecx, 200
    top:
      call sub
      dec ecx
      jnz top
      mov eax, cr4
      or eax, ${cr4}
      mov cr4, eax
      mov eax, esp
      push 0x31
      push eax
      push 0x29
      push ring1
      retf
    ring1:
      mov ecx, 200
    top1:
      call sub
      dec ecx
      jnz top1
      hlt
    sub:
      rdtsc
      add edi, eax
      adc esi, edx
      pushfd
      cli
      add ebx, ecx
      popfd
      ret
    `;
    const code = assemble(src(0), 32, ORG);
    const subAt = ORG + code.length - 12; // (the subroutine's 12 bytes end the program)
    for (const { cr4, iopl, faultAt, ecx } of [
      { cr4: CR4_TSD, iopl: 1, faultAt: subAt, ecx: 200 },
      { cr4: 0, iopl: 0, faultAt: subAt + 7, ecx: 200 },
      { cr4: 0, iopl: 1, faultAt: subAt - 1, ecx: 0 },
    ]) {
      for (const slice of [7, 100]) {
        const { cpu, ref, inWasm } = bothWays(src(cr4), slice, (c) => ring1(c, iopl));
        expect(ref.eip).toBe(ORG + HANDLER + 1);
        // The #GP's frame on the CPL 0 stack: error code, EIP, CS (the CPL 1 code segment).
        expect([cpu.mem.read32(0x8f000 - 24), cpu.mem.read32(0x8f000 - 20), cpu.mem.read32(0x8f000 - 16)]).toEqual([0, faultAt, 0x29]);
        expect(cpu.regs[1]).toBe(ecx);
        if (slice === 100) expect(inWasm).toBeGreaterThan(ecx === 0 ? 2000 : 1000);
      }
    }
  });

  it('RDTSC of a TSC set near and past 2^53: in wasm below, in the interpreter (whose TSC is a double) from there on', () => {
    const src = `
      mov ecx, 300
    top:
      rdtsc
      xor edi, eax
      rol edi, 1
      add esi, edx
      dec ecx
      jnz top
      hlt
    `;
    // Past 2^53 doubles step by 2: the interpreter's icount + tscOffset rounds an odd count to even there, and the
    // block's exact sum would differ from it.
    for (const { offset, native } of [
      { offset: 2 ** 53 - 2 ** 32 - 1e6, native: true },
      { offset: 2 ** 53, native: false },
      { offset: 2 ** 64 - 2 ** 12, native: false },
    ]) {
      const { cpu, inWasm } = bothWays(src, 50, (c) => void (c.tscOffset = offset));
      expect(cpu.regs[6]).not.toBe(0);
      if (native) expect(inWasm).toBeGreaterThan(1000);
    }
  });

  it('a RET to an address past the CS limit raises #GP at the RET', () => {
    // The subroutine moves its return address past the CS limit (0x1FFFF) on the last call.
    const src = `
      mov ecx, 300
    top:
      call sub
      dec ecx
      jnz top
      hlt
    sub:
      add eax, ecx
      cmp ecx, 1
      sete dl
      movzx edx, dl
      shl edx, 17
      add [esp], edx
      ret
    `;
    const limit = (cpu: Cpu): void => cpu.loadSegmentCache(CS, 0x08, 0, 0x1ffff, AR_P | AR_S | 0xb | AR_DB, true, 'loader');
    const { cpu, inWasm, ref } = bothWays(src, 50, limit);
    expect(inWasm).toBeGreaterThan(1000);
    expect(ref.eip).toBe(ORG + HANDLER + 1);
    expect(cpu.regs[0]).toBe(45150); // 300 + 299 + … + 1
    expect(cpu.regs[1]).toBe(1);
  });

  it('stores into the code page of the block that stores: beside its code every pass, into its own next instruction once', () => {
    // Every pass stores ECX to \`slot\` (data in the code page: the store goes to the interpreter, which keeps the
    // decoded instructions); on the pass where ECX is 50 the same store rewrites the immediate of \`patch\`, later in
    // the same block: the rest of that pass must run the new instruction.
    const src = `
      mov ecx, 100
    top:
      cmp ecx, 50
      sete al
      movzx edx, al
      imul edx, edx, patch + 1 - slot
      add edx, slot
      mov [edx], ecx
      add edi, ecx
    patch:
      mov eax, 0x11111111
      add ebx, eax
      dec ecx
      jnz top
      hlt
    slot: dd 0
    `;
    for (const slice of [3, 50]) {
      const { cpu, inWasm } = bothWays(src, slice);
      // EBX: 50 passes adding 0x11111111, then 50 adding the 50 stored into the immediate.
      expect(cpu.regs[3] >>> 0).toBe((50 * 0x11111111 + 50 * 50) >>> 0);
      if (slice === 50) expect(inWasm).toBeGreaterThan(200); // (3 is less than a pass of either block: none runs)
    }
  });

  it('a store across a page end into the next page\'s code (paging off): the last byte\'s page counts too', () => {
    // The dword at `slot` has its first two bytes at the end of a page of data only and its last two in the next
    // page, whose first instructions are two NOPs; on the pass where ECX is 50 the store turns them into INC ESI,
    // INC EDI (0x46 0x47), and the next pass's store turns them back. Only the page of the access's last byte says
    // it holds code, so a store tested on its first byte's page alone would leave the NOPs decoded.
    const src = `
      mov ecx, 100
    top:
      cmp ecx, 50
      sete bl
      movzx ebx, bl
      imul ebx, ebx, 0x47460000 - 0x90900000
      add ebx, 0x90900000
      mov [slot], ebx
      add edx, ecx
      jmp next
      times 0x2000 - 2 - ($ - $$) db 0
    slot: dw 0
    next:
      nop
      nop
      add ebp, edx
      dec ecx
      jnz top
      hlt
    `;
    for (const slice of [7, 60]) {
      const { cpu, inWasm } = bothWays(src, slice);
      expect([cpu.regs[6], cpu.regs[7]]).toEqual([1, 1]); // the pass where ECX is 50
      if (slice === 60) expect(inWasm).toBeGreaterThan(200);
    }
  });

  it('RAM past 2 GiB: accesses above 2^31 inline, and past the end of RAM to the interpreter (open bus)', () => {
    const src = `
      mov ecx, 200
      mov ebx, 0x9ffff000
    top:
      mov [ebx + ecx*4], ecx
      add eax, [ebx + ecx*4]
      add esi, [0xa0000400]
      mov [0xa0000400], ecx
      dec ecx
      jnz top
      hlt
    `;
    const { cpu, inWasm } = bothWays(src, 50, () => undefined, 0xa0000000);
    expect(cpu.regs[0]).toBe(20100); // 200 + 199 + … + 1 (the stores below the end of RAM land)
    expect(cpu.regs[6]).toBe(-200); // the open bus reads 0xFFFFFFFF past it
    expect(inWasm).toBeGreaterThan(500);
  });

  it('budgets that end inside a block that repeats: every budget from 1 to 40 retires what the interpreter does', () => {
    const src = `
      mov ecx, 500
    top:
      add eax, ecx
      xor edx, eax
      rol edx, 3
      dec ecx
      jnz top
      hlt
    `;
    for (let slice = 1; slice <= 40; slice++) {
      const { inWasm } = bothWays(src, slice);
      if (slice >= 10) expect(inWasm).toBeGreaterThan(1000);
    }
  });
});

// Linked blocks (jit/wasm/link.ts): a block's exit goes on into the wasm block at its EIP inside wasm, through the
// dispatcher, under the run loop's conditions. In each program block a and block b lie in different pages (a trace
// ends at its page's end, so they are two blocks) and lead to each other.
describe.skipIf(!HAS_NASM)('linked wasm blocks', () => {
  /** `a` (at ORG), then `b` at the start of the next page. */
  const twoPages = (a: string, b: string): string => `${a}\n  times 0x1000 - ($ - $$) nop\n${b}\n  hlt`;

  it('every budget from 1 to 40 across two blocks that go on into each other retires what the interpreter does', () => {
    // A pass is a (3 instructions) then b (4), two runs linked inside wasm. A dispatcher that entered a block whose
    // pass does not fit the budget left would run past the slice's end, where the run loop delivers interrupts.
    const src = twoPages(
      `
      mov ecx, 500
    a:
      add eax, ecx
      xor edx, eax
      jmp b`,
      `
    b:
      add ebx, edx
      rol edx, 3
      dec ecx
      jnz a`,
    );
    for (let slice = 1; slice <= 40; slice++) {
      const { cpu } = bothWays(src, slice);
      if (slice >= 14) expect(linkedRuns(cpu.mem.wasm), `slice ${slice}`).toBeGreaterThan(100);
    }
  });

  it('an interpreter call that raises an interrupt ends the run: no link after it, the interrupt comes after that instruction', () => {
    // a's last instruction, at its page's end, is an OUT (an interpreter call inside the block); the 300th raises
    // INTR with IF set. The call leaves the block with EIP at b, a block entered in this epoch: a dispatcher that went
    // on into b would deliver the interrupt after b's pass instead of before its ADD.
    const ports: PortSetup = (m) => {
      let writes = 0;
      m.cpu.io.register(0x62, 1, {
        portIn: () => 0,
        portOut: () => {
          if (++writes === 300) m.cpu.setIntrLine(true);
        },
      });
      m.cpu.acknowledgeInterrupt = () => 0x20;
    };
    const src = twoPages(
      `
      mov ecx, 1000
      sti
    a:
      add eax, ecx
      jmp near tail
      times 0x1000 - 2 - ($ - $$) nop
    tail:
      out 0x62, al`,
      `
    b:
      add ebx, eax
      dec ecx
      jnz a`,
    );
    for (const slice of [50, 1000]) {
      const { cpu, ref } = bothWays(src, slice, () => undefined, undefined, ports);
      expect(ref.eip).toBe(ORG + HANDLER + 1); // the interrupt came
      expect(cpu.regs[1]).toBe(701); // before the DEC of the 300th pass
      expect(linkedRuns(cpu.mem.wasm)).toBeGreaterThan(100);
    }
  });

  it('a block that reads the flags the block before left pending is entered through a link, the record folded in wasm', () => {
    // a leaves the record of one operation pending (CF set or clear by BT first, for ADC and SBB); b's PUSHFD reads
    // all six flags, which the dispatcher folds from the state area before it goes on into b. Every operation the
    // blocks leave a record of, in each size, on random operands; b adds the flags into EBX.
    let seed = 0x2545f491;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const words = Array.from({ length: 600 }, () => {
      const v = random();
      // Operands near the edges of each size as often as anywhere.
      return (random() & 3) === 0 ? [0, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff][v % 10] : v;
    });
    const table = `table: dd ${words.join(', ')}`;
    const ops = ['add', 'adc', 'sub', 'sbb', 'cmp', 'and', 'or', 'xor', 'test'].flatMap((op) =>
      [['eax', 'edx'], ['ax', 'dx'], ['al', 'dl']].map(([x, y]) => `${op} ${x}, ${y}`),
    );
    ops.push(...['eax', 'ax', 'al'].flatMap((x) => [`inc ${x}`, `dec ${x}`, `neg ${x}`]));
    for (const op of ops) {
      const { cpu } = bothWays(
        twoPages(
          `
      mov ecx, 300
      mov esi, table
    a:
      mov eax, [esi]
      mov edx, [esi + 4]
      bt eax, 7
      ${op}
      jmp b
      ${table}`,
          `
    b:
      pushfd
      pop edx
      and edx, 0x8d5
      add ebx, edx
      rol ebx, 5
      add esi, 8
      dec ecx
      jnz a`,
        ),
        1000,
      );
      // Both ways (a → b needs the fold) in each of the 300 passes, but for the run's first block.
      expect(linkedRuns(cpu.mem.wasm), op).toBeGreaterThan(500);
    }
  });

  it('after a block that defines no flag, the flags of the last block that did stand', () => {
    // a's DEC leaves a record; b (MOV, LEA, JMP) defines none: where a slice ends after b, the CPU's flags are a's.
    const { cpu } = bothWays(
      twoPages(
        `
      mov ecx, 500
    a:
      add eax, 0x9e3779b1
      dec ecx
      jz done
      jmp b`,
        `
    b:
      mov edx, eax
      lea esi, [esi + 1]
      jmp a
    done:`,
      ),
      9,
    );
    expect(linkedRuns(cpu.mem.wasm)).toBeGreaterThan(100);
  });

  it('a store into the next block\'s code: no link leads into the block dropped with its page', () => {
    // At ECX = 150, a's fall-through path patches b's MOV EDX, 1 to MOV EDX, 7, which drops b's page with its blocks
    // (a's page stays). A link that still led from a into the old b (its hash entry is of the old code epoch) would
    // go on adding 1.
    const { cpu } = bothWays(
      twoPages(
        `
      mov ecx, 300
    a:
      add eax, ecx
      cmp ecx, 150
      jne b
      mov dword [b + 1], 7
      jmp b`,
        `
    b:
      mov edx, 1
      add ebx, edx
      dec ecx
      jnz a
      mov [0x8000], ebx`,
      ),
      100,
    );
    expect(cpu.regs[3]).toBe(150 * 1 + 150 * 7);
    expect(linkedRuns(cpu.mem.wasm)).toBeGreaterThan(100);
  });

  it('a #DE raised in the second of two linked blocks, at its instruction with the instructions before it retired', () => {
    // b's DIV is left to the interpreter: when the run reached b through a link from a, the wrapper must run b's
    // instruction (not a's) with both blocks' instructions counted in jitRetired.
    const { cpu } = bothWays(
      twoPages(
        `
      mov esi, 200
    a:
      add ebx, esi
      jmp b`,
        `
    b:
      inc edi
      mov eax, 100000
      xor edx, edx
      div esi
      add ebp, eax
      dec esi
      jmp a`,
      ),
      100,
    );
    expect(cpu.regs[6]).toBe(0); // the #DE with ESI = 0
    expect(linkedRuns(cpu.mem.wasm)).toBeGreaterThan(100);
  });

  it('interrupts raised between runs are delivered at the instruction counts the interpreter gives, with links', () => {
    // INTR rises after every third slice of 13 instructions; the handler logs ECX and EAX. A dispatcher that went
    // past the budget would deliver them later in the loop.
    const src = twoPages(
      `
      mov ecx, 3000
    a:
      add eax, ecx
      xor edx, eax
      jmp b
      times 0x100 - ($ - $$) nop
    irq:
      mov [0x9000 + edi * 8], ecx
      mov [0x9004 + edi * 8], eax
      inc edi
      iretd`,
      `
    b:
      add ebx, edx
      rol edx, 3
      dec ecx
      jnz a`,
    );
    const run = (jit: boolean): { m: TestMachine; delivered: number[] } => {
      const m = machine(src);
      const delivered: number[] = [];
      setInterruptGate(m, 0x20, ORG + 0x100); // irq
      m.cpu.acknowledgeInterrupt = () => {
        delivered.push(m.cpu.icount);
        m.cpu.setIntrLine(false);
        return 0x20;
      };
      m.cpu.setEflags(0x202); // IF
      if (jit) wasmOnly(m.cpu);
      else m.cpu.jit = false;
      for (let k = 0; k < 10_000 && !m.cpu.halted; k++) {
        m.cpu.run(13);
        if (k % 3 === 2 && !m.cpu.halted) m.cpu.setIntrLine(true); // (INTR would wake the final HLT)
      }
      return { m, delivered };
    };
    const ref = run(false);
    const jit = run(true);
    expect(ref.m.cpu.halted).toBe(true);
    expect(ref.delivered.length).toBeGreaterThan(500);
    expect(jit.delivered).toEqual(ref.delivered);
    expect(cpuState(jit.m.cpu)).toEqual(cpuState(ref.m.cpu));
    expect(Buffer.compare(ref.m.mem.u8, jit.m.mem.u8)).toBe(0);
    expect(linkedRuns(jit.m.cpu.mem.wasm)).toBeGreaterThan(1000);
  });
});
