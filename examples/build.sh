#!/bin/sh
# Rebuild every example image from its source (run after editing an .asm or include/guest.inc).
set -e
cd "$(dirname "$0")"
for asm in */*.asm; do
  dir=$(dirname "$asm")
  name=$(basename "$asm" .asm)
  (cd "$dir" && nasm -f bin -i ../include/ "$name.asm" -o "$name.bin")
  echo "built $dir/$name.bin"
done
