// A C kernel of many compile units, generated and built with Debian's gcc -m32: examples/c-kernel/kernel.c (the
// multiboot entry, gdt_set, kmain) linked with `units` generated modules, each with its own struct, enum, typedef,
// globals and `functions` functions calling one another. The laziness test uses a few units; bench/c-symbols.mjs
// builds the large one the README quotes.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

function moduleSource(k: number, functions: number): string {
  const out = [
    `typedef unsigned int m${k}_word;`,
    `enum m${k}_state { M${k}_IDLE, M${k}_BUSY, M${k}_DONE };`,
    `struct m${k}_rec { m${k}_word id; short delta; unsigned char flags : 3; unsigned char level : 5; enum m${k}_state state; };`,
    `struct m${k}_rec m${k}_table[8];`,
    `static int m${k}_count;`,
    `m${k}_word m${k}_total = ${k};`,
  ];
  for (let f = 0; f < functions; f++) {
    const callee = f > 0 ? `m${k}_f${f - 1}(r, x - 1)` : 'x';
    out.push(
      `__attribute__((noinline)) m${k}_word m${k}_f${f}(struct m${k}_rec *r, int x) {`,
      `  int local = x * ${f + 3};`,
      `  for (int i = 0; i < (x & 3); i++) { m${k}_word step = (m${k}_word)i + r->id; local += (int)step; }`,
      `  r->delta = (short)local; m${k}_count++;`,
      `  return x > 0 ? ${callee} + (m${k}_word)local : (m${k}_word)local;`,
      '}',
    );
  }
  return out.join('\n') + '\n';
}

/** Builds the kernel into a new temporary folder; returns the ELF's path. */
export function buildManyUnitKernel(root: string, units: number, functions: number, opt = '-O2'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringside-many-units-'));
  const kernelDir = path.join(root, 'examples/c-kernel');
  const sources = [path.join(kernelDir, 'kernel.c')];
  for (let k = 0; k < units; k++) {
    const file = path.join(dir, `mod${k}.c`);
    fs.writeFileSync(file, moduleSource(k, functions));
    sources.push(file);
  }
  const objects: string[] = [];
  const cflags = ['-m32', '-march=i486', opt, '-g', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-mgeneral-regs-only', '-c'];
  // gcc -c with many sources writes each object into the working folder.
  execFileSync('gcc', [...cflags, ...sources], { cwd: dir, stdio: 'pipe' });
  for (const s of sources) objects.push(path.join(dir, path.basename(s).replace(/\.c$/, '.o')));
  const elf = path.join(dir, 'many-units.elf');
  execFileSync('ld', ['-m', 'elf_i386', '--no-warn-rwx-segments', '-T', path.join(kernelDir, 'link.ld'), '-o', elf, ...objects], { stdio: 'pipe' });
  return elf;
}
