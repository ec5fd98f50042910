// Guests written byte by byte (no assembler needed) whose result depends on which instruction follows another across
// a page boundary or an IP wrap: the reproducers of issue 17, item 1, and its relatives.

/** Where the flat images below load and start (the default flat-binary address). */
export const LOAD = 0x7c00;

/** Little-endian bytes of `v`, `n` bytes wide. */
function le(v: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => (v >>> (8 * k)) & 0xff);
}

/**
 * Issue 17's reproducer. Four NOPs at 0x7FFC fall through into `mov al, 0x11` at 0x8000; the program rewrites that
 * immediate to 0x22 with a store, jumps back to the NOPs, runs the instruction again and exits with AL through port
 * 0xF4: 34 on a CPU that sees its own stores (and 17 when a stale link from 0x7FFF to the old decoded instruction at
 * 0x8000 survives the store). `bits` 16 runs it in real mode, 32 in flat protected mode.
 *
 *   7C00  xor ebx, ebx          7FFC  nop ×4                8006  je done
 *   7C02  jmp near 7FFC         8000  mov al, 0x11          8008  mov byte [0x8001], 0x22
 *                               8002  inc ebx               …     jmp near 7FFC
 *                               8003  cmp ebx, 2            done: out 0xF4, al
 */
export function pageCrossSmc(bits: 16 | 32): Uint8Array {
  const w = bits / 8; // width of a near displacement and of an absolute address
  const out: number[] = [];
  const at = (): number => LOAD + out.length;
  const jmpNear = (to: number): void => {
    const end = at() + 1 + w;
    out.push(0xe9, ...le(to - end, w));
  };
  out.push(0x31, 0xdb); // xor (e)bx, (e)bx
  jmpNear(0x7ffc);
  while (at() < 0x7ffc) out.push(0);
  out.push(0x90, 0x90, 0x90, 0x90);
  out.push(0xb0, 0x11); // 8000: mov al, 0x11
  out.push(0x43); // inc (e)bx
  out.push(0x83, 0xfb, 0x02); // cmp (e)bx, 2
  const je = out.length;
  out.push(0x74, 0); // je done (patched below)
  out.push(0xc6, bits === 16 ? 0x06 : 0x05, ...le(0x8001, w), 0x22); // mov byte [0x8001], 0x22
  jmpNear(0x7ffc);
  out[je + 1] = out.length - (je + 2);
  out.push(0xe6, 0xf4); // done: out 0xF4, al
  return Uint8Array.from(out);
}

/** The exit code of pageCrossSmc on a CPU that runs what memory holds. */
export const PAGE_CROSS_SMC_EXIT = 0x22;

/**
 * One decoded instruction, two successors: `inc bx` at linear 0x200FF runs first as 1020:FEFF, where it falls
 * through to 1020:FF00 (linear 0x20100, a far jump to 1010:FFFF), then as 1010:FFFF, where IP wraps to 0 (linear
 * 0x10100: `mov al, bl; out 0xF4, al`). Exit code 2; a link from the first fall-through reused at the wrap sends
 * the guest back to the far jump forever.
 */
export function ipWrapSuccessor(): { image: Uint8Array; load: number } {
  const base = 0x10100;
  const mem = new Uint8Array(0x20200 - base);
  const put = (linear: number, bytes: number[]): void => mem.set(bytes, linear - base);
  put(0x10100, [0x88, 0xd8, 0xe6, 0xf4]); // mov al, bl; out 0xF4, al
  put(0x10104, [0x31, 0xdb, 0xea, ...le(0xfeff, 2), ...le(0x1020, 2)]); // start: xor bx, bx; jmp 1020:FEFF
  put(0x200ff, [0x43]); // inc bx
  put(0x20100, [0xea, ...le(0xffff, 2), ...le(0x1010, 2)]); // jmp 1010:FFFF
  return { image: mem, load: base };
}
/** Where ipWrapSuccessor's image starts running (a linear address in segment 0). */
export const IP_WRAP_ENTRY = 0x10104;
