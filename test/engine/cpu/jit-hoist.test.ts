// Hoisted access checks (jit/emitter.ts, "Hoisted checks"): in a block that repeats, an access addressed by registers
// the block's own code never writes has its physical address and inline test computed before the loop and again
// after every call. Each test here would fail if that went wrong: the hoisting gone (the loop tests page flags
// again), a handler's register write not followed (stores land on a stale address), or page flags and segment
// windows taken from the block's build instead of each run (a watch or a lowered limit missed).

import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../engine/cpu/cpu';
import { MemoryWatch } from '../../../engine/cpu/watch';
import { BENCH_LOOP, gpHalts, guest, guestState, loadDs, ORG } from './jit-guest';
import { HAS_NASM, recordExceptions } from './move-fixtures';
import { CODE, enablePaging, guest as pagedGuest, P, RW, setPte, US } from './paging-fixtures';
import { setDefaultWasmBlocks } from '../../../engine/cpu/jit/wasm/block';

// These tests look inside the JS tier's blocks (their source, hoisting, trace shape): its heads are not wasm blocks.
setDefaultWasmBlocks(false);

const TOP = ORG + 0x10;

function blockAt(cpu: Cpu, eip: number): ReturnType<Cpu['fetchInstr']>['block'] {
  return cpu.fetchInstr(eip).block;
}

/** The part of a block's source inside its loop (after `for (;;) {`). */
function loopBody(source: string): string {
  const at = source.indexOf('for (;;) {');
  expect(at).toBeGreaterThanOrEqual(0);
  return source.slice(at);
}

// examples/bench-loop's ten instructions: EBX is never written, so all five accesses are hoisted.
const LOOP = BENCH_LOOP;

describe.skipIf(!HAS_NASM)('hoisted access checks in translated loops', () => {
  it('a loop addressed by a register it never writes tests no page flag inside its loop, and equals the interpreter', () => {
    const jit = guest(LOOP, true);
    const ref = guest(LOOP, false);
    expect(jit.cpu.run(100_000)).toBe(ref.cpu.run(100_000));
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    expect(Buffer.compare(jit.mem.u8, ref.mem.u8)).toBe(0);
    const b = blockAt(jit.cpu, TOP)!;
    expect(b.len).toBe(10);
    // The page-flag tests are before the loop (and in the out-of-line paths' recomputation), not on the inline path.
    expect(b.source.slice(0, b.source.indexOf('for (;;) {'))).toContain('PFL[');
    const inline = loopBody(b.source)
      .split('\n')
      .filter((l) => !l.startsWith('else'));
    expect(inline.join('\n')).not.toContain('PFL[');
  });

  it("an interpreter handler that moves the base register inside the loop: the accesses follow it", () => {
    // XADD has no inline code: the block calls its handler, which writes EBX (EBX += 4 each pass) behind the
    // block's back. The store through [EBX] must land on a new dword every pass, as in the interpreter.
    const src = `
      mov ebx, 0x40000
      mov ecx, 200
      mov edx, 4
      align 16
    top:
      mov [ebx], ecx
      add dword [ebx + 0x1000], 7
      mov edx, 4
      xadd ebx, edx
      dec ecx
      jnz top
      hlt
    `;
    const jit = guest(src, true);
    const ref = guest(src, false);
    expect(jit.cpu.run(100_000)).toBe(ref.cpu.run(100_000));
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    expect(Buffer.compare(jit.mem.u8, ref.mem.u8)).toBe(0);
    for (let k = 0; k < 200; k++) {
      expect(jit.mem.peek(0x40000 + 4 * k, 4)).toBe(200 - k);
      expect(jit.mem.peek(0x41000 + 4 * k, 4)).toBe(7);
    }
    const b = blockAt(jit.cpu, TOP)!;
    expect(b.len).toBe(6);
    expect(b.source).toContain('H('); // the XADD is a handler call (if it gets inline code, EBX is no longer invariant)
  });

  it('a write watch armed after the loop is translated sees every later store, as in the interpreter', () => {
    const jit = guest(LOOP, true);
    const ref = guest(LOOP, false);
    jit.cpu.run(2_000); // hot and translated, mid-loop
    ref.cpu.run(2_000);
    expect(blockAt(jit.cpu, TOP)?.len).toBe(10);
    const hits = [0, 0];
    const watches = [jit, ref].map((m, k) => {
      const w = new MemoryWatch(m.mem);
      w.onHit = () => void hits[k]++;
      w.set([{ id: 1, phys: 0x4000c, length: 4, access: 'write' }]);
      return w;
    });
    jit.cpu.run(3_000);
    ref.cpu.run(3_000);
    expect(hits[0]).toBe(300); // one add-to-memory per pass of ten instructions
    expect(hits[1]).toBe(300);
    watches.forEach((w) => w.set([]));
    expect(jit.cpu.run(100_000)).toBe(ref.cpu.run(100_000));
    expect(hits).toEqual([300, 300]); // disarmed: the inline path again, no more hits
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    expect(Buffer.compare(jit.mem.u8, ref.mem.u8)).toBe(0);
  });

  it('a DS limit lowered while the loop is translated: the next access through the hoisted check faults, exactly', () => {
    const both = [guest(LOOP, true), guest(LOOP, false)];
    const faults = both.map((m) => {
      loadDs(m, 0, 0x7ffff); // not flat: the block tests the window (hoisted with the rest)
      gpHalts(m);
      return recordExceptions(m);
    });
    const [jit, ref] = both;
    expect(jit.cpu.run(2_000)).toBe(ref.cpu.run(2_000));
    expect(blockAt(jit.cpu, TOP)?.len).toBe(10);
    for (const m of both) while (m.cpu.eip !== TOP) m.cpu.run(1); // at the block's head: the next run enters it
    for (const m of both) loadDs(m, 0, 0x3ffff); // [EBX] = 0x40000 is now past the limit
    expect(jit.cpu.run(10_000)).toBe(ref.cpu.run(10_000));
    expect(faults[0]).toEqual(faults[1]);
    expect(faults[0]).toHaveLength(1);
    expect(faults[0][0].eip).toBe(TOP + 2); // the store to [EBX], the block's first access
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    expect(Buffer.compare(jit.mem.u8, ref.mem.u8)).toBe(0);
  });

  it('a watch armed from inside an out-of-line access mid-run: the hoisted store to that page sees it in the same pass', () => {
    // The load of [EBX] takes the out-of-line path every pass (a read watch on its page). At the 50th hit the watch's
    // callback arms a write watch on the page of [EBX + 0x1000]; nothing makes the block leave, so only the page
    // flags' generation (Memory.flagsGeneration) tells the block to test the store's page again.
    const src = `
      mov ebx, 0x40000
      mov ecx, 300
      align 16
    top:
      mov eax, [ebx]
      add eax, ecx
      mov [ebx + 0x1000], eax
      dec ecx
      jnz top
      hlt
    `;
    const hits = [0, 0];
    const both = [guest(src, true), guest(src, false)];
    both.forEach((m, k) => {
      const reads = new MemoryWatch(m.mem);
      const writes = new MemoryWatch(m.mem);
      writes.onHit = () => void hits[k]++;
      let seen = 0;
      reads.onHit = () => {
        if (++seen === 50) writes.set([{ id: 2, phys: 0x41000, length: 4, access: 'write' }]);
      };
      reads.set([{ id: 1, phys: 0x40000, length: 4, access: 'read' }]);
    });
    const [jit, ref] = both;
    expect(jit.cpu.run(100_000)).toBe(ref.cpu.run(100_000));
    expect(blockAt(jit.cpu, TOP)?.len).toBe(5); // translated before the 50th pass (threshold 40): the arming is mid-run
    expect(hits[1]).toBe(251); // the store of the 50th pass and every one after it
    expect(hits[0]).toBe(hits[1]);
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
  });

  it('a loop with a side exit in its pass keeps its checks inline (it may leave in its first pass)', () => {
    const src = BENCH_LOOP.replace('  rol eax, 3\n', '  rol eax, 3\n  test eax, 0x40000000\n  jnz .odd\n.odd:\n');
    const jit = guest(src, true);
    const ref = guest(src, false);
    expect(jit.cpu.run(100_000)).toBe(ref.cpu.run(100_000));
    expect(guestState(jit.cpu)).toEqual(guestState(ref.cpu));
    const b = blockAt(jit.cpu, TOP)!;
    expect(b.source).toContain('for (;;) {');
    expect(b.source).not.toContain('hk0');
  });

  it('the TLB emptied during an out-of-line access mid-run: the hoisted load walks again and sees the new mapping', () => {
    // Paging on. Each pass loads [EDI] (a watched page: the out-of-line path) and then [EBX] (hoisted: a TLB hit).
    // At the 50th load of [EDI] the page table entry of [EBX]'s page is pointed elsewhere and the TLB emptied, as a
    // fill does when its list is full (Tlb.fill); only the TLB's generation tells the block to look [EBX] up again.
    const src = `
        mov ebx, 0x100000
        mov edi, 0x140000
        mov ecx, 200
        xor esi, esi
        align 16
      top:
        mov edx, [edi]
        mov eax, [ebx]
        add esi, eax
        dec ecx
        jnz top
    `;
    const both = [pagedGuest(src), pagedGuest(src)];
    both[1].cpu.jit = false;
    both.forEach((m) => {
      enablePaging(m);
      m.mem.write32(0x100000, 1);
      m.mem.write32(0x180000, 1000);
      let seen = 0;
      const w = new MemoryWatch(m.mem);
      w.onHit = () => {
        if (++seen !== 50) return;
        setPte(m, 0x100000, 0x180000 | P | RW | US); // without INVLPG: the old translation may stay cached
        m.cpu.tlb.clear(false);
      };
      w.set([{ id: 1, phys: 0x140000, length: 4, access: 'read' }]);
    });
    const [jit, ref] = both;
    expect(jit.cpu.run(100_000)).toBe(ref.cpu.run(100_000));
    expect(ref.cpu.regs[6]).toBe(49 * 1 + 151 * 1000);
    expect(jit.cpu.regs[6]).toBe(ref.cpu.regs[6]);
    // The loop ran as a block that hoists under paging (so the run above went through the generation test): its
    // head is the first \`mov edx, [edi]; mov eax, [ebx]\` (8B 17 8B 03) in the image.
    const top = Buffer.from(jit.mem.u8.buffer).indexOf(Buffer.from([0x8b, 0x17, 0x8b, 0x03]), CODE);
    const source = blockAt(jit.cpu, top)?.source ?? '';
    expect(source).toContain('hk1 = ');
    expect(source).toContain('c.tlb.generation');
  });
});
