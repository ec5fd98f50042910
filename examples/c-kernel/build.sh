#!/bin/sh
# Builds kernel.elf from kernel.c with Debian's gcc (gcc-multilib) and binutils. OPT defaults to -O0; the tests
# also build it with -O2, and with CC=clang. Usage: [CC=clang] build.sh [OUT.elf] [OPT]
set -e
cd "$(dirname "$0")"
out=${1:-kernel.elf}
opt=${2:--O0}
t=$(mktemp -d)
${CC:-gcc} -m32 -march=i486 $opt -g -ffreestanding -fno-pic -fno-stack-protector -mgeneral-regs-only -mno-red-zone \
  -fdebug-prefix-map="$(pwd)"=. -c -o "$t/kernel.o" kernel.c
ld -m elf_i386 --no-warn-rwx-segments -T link.ld -o "$out" "$t/kernel.o"
rm -rf "$t"
