#!/bin/bash
# run-on-bochs.sh [--record] IMAGE [SECONDS]
# Runs an example image on Bochs (a second, independent x86 implementation) to tell a guest bug from a
# Ringside bug: if a guest prints `ok` here but not under `ringside run`, look at the engine first.
# Needs: apt-get install bochs bochsbios vgabios nasm   (not a project dependency; a developer's tool)
#
# Bochs boots a BIOS, so a 512-byte boot sector is put in front of the image: it moves itself out of the way,
# reads the image to 0x7C00 and starts it in Ringside's start state (real mode, 0000:7C00, SS:SP = 0000:7000,
# interrupts off). Differences from Ringside's machine: the BIOS has programmed the PIC and PIT, and Bochs has
# no exit port, so the value written to port 0xF4 is taken from Bochs's log and the run ends after SECONDS.
# Prints the guest's port 0xE9 output, then `[exit port: 0xNN]`; exits with that value (124 when none came).
# With --record, a run that exits with 0 also writes the output to expected-output.txt beside the image (what
# test/examples/run.test.ts compares `ringside run` with).
set -u
record=no
if [ "${1:-}" = "--record" ]; then record=yes; shift; fi
image=${1:?usage: run-on-bochs.sh [--record] IMAGE [SECONDS]}
seconds=${2:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/loader.asm" <<'EOF'
        org 0x600
        bits 16
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7000
        mov si, 0x7C00                  ; move this sector from 0x7C00 to 0x600
        mov di, 0x600
        mov cx, 256
        rep movsw
        jmp 0:moved
moved:  mov si, packet                  ; INT 13h AH=42h: read 127 sectors from LBA 1 to 0000:7C00
        mov ah, 0x42
        int 0x13
        jc failed
        cli
        xor eax, eax
        xor ebx, ebx
        xor ecx, ecx
        xor edx, edx
        xor esi, esi
        xor edi, edi
        xor ebp, ebp
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, 0x7000
        jmp 0:0x7C00
failed: mov al, 'E'
        out 0xE9, al
        hlt
        align 4
packet: db 0x10, 0
        dw 127
        dw 0x7C00, 0
        dq 1
        times 510 - ($ - $$) db 0
        dw 0xAA55
EOF
nasm -f bin "$work/loader.asm" -o "$work/loader.bin" || exit 1
cat "$work/loader.bin" "$image" > "$work/disk.img"
truncate -s $((2 * 16 * 63 * 512)) "$work/disk.img"
cat > "$work/bochsrc" <<EOF
megs: 16
speaker: enabled=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=disk, path=$work/disk.img, mode=flat, cylinders=2, heads=16, spt=63
boot: disk
port_e9_hack: enabled=1
display_library: rfb, options="timeout=0"
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore, unmapped=report
com1: enabled=1, mode=file, dev=$work/com1.txt
cpu: reset_on_triple_fault=0
EOF
echo c > "$work/commands"                # the Debian build starts in its debugger: continue
timeout "$seconds" bochs -q -f "$work/bochsrc" -rc "$work/commands" > "$work/out.txt" 2>&1
# The guest's output sits between the debugger's first prompt line and the next log or banner line.
awk 'f && /^(ALSA|=====|[0-9]{11}[a-z]\[)/ {exit} f {print} /^\(0\) \[0x0000fffffff0\]/ {f=1}' "$work/out.txt" \
  > "$work/guest.txt"
cat "$work/guest.txt"
grep -E "triple|shutdown|>>PANIC<<" "$work/bochs.log" | head -3
exit_value=$(grep -m1 "write to 00f4" "$work/bochs.log" | sed 's/.*= //')
if [ -z "$exit_value" ]; then echo "[no write to the exit port]"; exit 124; fi
echo "[exit port: 0x$exit_value]"
if [ "$record" = yes ] && [ $((16#$exit_value)) -eq 0 ]; then
  cp "$work/guest.txt" "$(dirname "$image")/expected-output.txt"
  echo "[recorded $(dirname "$image")/expected-output.txt]"
fi
exit $((16#$exit_value))
