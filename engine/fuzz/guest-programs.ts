// The guest-code fuzzer's programs: plausible system code from the lockstep generator (random-program.ts) with some
// of its slots replaced by raw random bytes, self-modifying stores into later slots (some across the page boundary
// at 0x13000, where slot 256 begins) and bounded backward loops that run modified slots again; or raw random bytes
// alone, run in real mode or flat protected mode. Every program is reproducible from its seed.

import { BODY, encode, PROGRAM_BASE, randomProgram, Rng } from '../monitor/random-program';
import type { LoadOptions } from '../machine/loaders';

export type GuestProgramKind = 'system' | 'raw16' | 'raw32';

export interface GuestProgram {
  kind: GuestProgramKind;
  seed: number;
  image: Uint8Array;
  load: LoadOptions;
}

const SLOT = 16;
/** Slots per program: the body crosses from page 0x12000 into 0x13000 (slot 256). */
const SLOTS = 320;
/** Bytes in the runtime's free space the loops count down (random/runtime.asm leaves 0x103A0–0x103FF zero). */
const LOOP_COUNTER = 0x103a0;
const LOOP_COUNTERS = 0x60;
const RAW_LOAD = 0x7c00;

/** The program of `seed`: a third raw random bytes (16- or 32-bit), the rest system code with raw and SMC slots. */
export function guestProgram(seed: number): GuestProgram {
  const r = new Rng(seed * 2654435761);
  const pick = r.below(6);
  if (pick === 0) return rawProgram(seed, r, 'raw16');
  if (pick === 1) return rawProgram(seed, r, 'raw32');
  return systemProgram(seed, r);
}

function rawProgram(seed: number, r: Rng, kind: 'raw16' | 'raw32'): GuestProgram {
  const image = new Uint8Array(16 + r.below(4096));
  for (let k = 0; k < image.length; k++) image[k] = r.below(256);
  return { kind, seed, image, load: { format: 'bin', loadAddress: RAW_LOAD, mode: kind === 'raw16' ? 'real' : 'protected' } };
}

function systemProgram(seed: number, r: Rng): GuestProgram {
  const paging = r.chance(0.5);
  const image = randomProgram(seed, SLOTS, { paging }).image;
  const slotAt = (k: number): number => BODY + k * SLOT - PROGRAM_BASE;
  const put = (k: number, bytes: number[]): void => {
    image.fill(0x90, slotAt(k), slotAt(k) + SLOT);
    image.set(bytes, slotAt(k));
  };
  // One down-counter per loop slot (2: each loop runs its slots again once, then falls through).
  image.fill(2, LOOP_COUNTER - PROGRAM_BASE, LOOP_COUNTER - PROGRAM_BASE + LOOP_COUNTERS);
  const first = paging ? 3 : 0; // the paging prologue stays
  for (let k = first; k < SLOTS; k++) {
    const roll = r.below(100);
    if (roll < 3) {
      // Raw bytes: whatever they decode to (the runtime's handlers resume at the next slot after a fault); no HLT,
      // which at ring 0 with IF = 0 would only end the run.
      put(k, Array.from({ length: 1 + r.below(SLOT) }, () => r.below(256)).map((b) => (b === 0xf4 ? 0x90 : b)));
    } else if (roll < 12) {
      // Self-modifying code: a slot (often one of the first of the next page) holds mov reg, imm32, and this one
      // changes its immediate — to a new value each time it runs (inc, add), or to one value — or, now and then,
      // any byte of it. Loops (below) run both again.
      const to = r.chance(0.5) ? (r.chance(0.6) ? 256 : 257 + r.below(3)) : Math.max(first, Math.min(SLOTS - 1, k - 8 + r.below(17)));
      if (to === k) continue;
      if (to > k) put(to, [0xb8 + r.pick([0, 1, 2, 3, 5, 6, 7]), ...encode.le32(r.next())]);
      const imm = BODY + to * SLOT + 1;
      switch (r.below(5)) {
        case 0: put(k, [0x36, 0xff, 0x05, ...encode.le32(imm)]); break; // inc dword [ss:imm]
        case 1: put(k, [0x36, 0x83, 0x05, ...encode.le32(imm + r.below(4)), 1 + r.below(255)]); break; // add dword, imm8
        case 2: put(k, encode.storeSs(imm, r.next())); break;
        case 3: put(k, [0x36, 0xc6, 0x05, ...encode.le32(imm + r.below(4)), r.below(256)]); break;
        default: put(k, [0x36, 0xc6, 0x05, ...encode.le32(BODY + to * SLOT + r.below(SLOT)), r.below(256)]); break;
      }
    } else if (roll < 18 && k > first + 1) {
      // dec byte [ss:counter]; jg back to an earlier slot: the slots between run again, modified or not.
      const back = Math.max(first, k - 1 - r.below(k > 250 && k < 270 ? 16 : 40));
      const jgEnd = BODY + k * SLOT + 13;
      const counter = LOOP_COUNTER + (k % LOOP_COUNTERS);
      put(k, [0x36, 0xfe, 0x0d, ...encode.le32(counter), 0x0f, 0x8f, ...encode.le32(BODY + back * SLOT - jgEnd)]);
    }
  }
  // Most programs start a little before the page boundary (slot 256), so the budget reaches it.
  if (r.chance(0.75)) {
    const to = 256 - 4 - r.below(40);
    const jmpEnd = BODY + first * SLOT + 5;
    put(first, [0xe9, ...encode.le32(BODY + to * SLOT - jmpEnd)]);
  }
  return { kind: 'system', seed, image, load: { format: 'bin', loadAddress: PROGRAM_BASE, entry: PROGRAM_BASE, mode: 'protected' } };
}
