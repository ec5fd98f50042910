; loop-multiboot - examples/bench-loop's ten-instruction loop (examples/include/bench-loop.inc: the same macro, so the
; same loop bytes and the same check against the model) as a Multiboot 1 kernel, so that Ringside, QEMU
; (`-kernel`) and v86 (its `multiboot` option, which needs no BIOS) all run it from the same image and
; bench/loop-peers.mjs can compare them in one run. The whole loop and its check run REPEAT times (a dword after
; the "LOOPREPEAT" mark, 1 here: the bench patches it), each time from the loop's initial state; then "ok" on port
; 0xE9 and exit code 0 through port 0xF4 (QEMU: isa-debug-exit; v86: the bench's own port handler). Each pass ends
; with a write to port 0x80 (the POST port), by which the bench times v86's first pass apart from the others.
;
;     nasm -f bin -i ../examples/include/ loop-multiboot.asm -o loop-multiboot.bin

%include "guest.inc"
%include "bench-loop.inc"

LOAD            equ 0x00100000  ; 1 MiB: where the a.out-kludge fields below place the file
DATA            equ 0x00010000  ; four dwords the loop stores to and loads from (as in examples/bench-loop)
STACK           equ 0x00090000
POST_PORT       equ 0x80

MB_FLAGS        equ (1 << 1) | (1 << 16) ; memory information, a.out kludge (load by the addresses below)

        org LOAD
        bits 32

multiboot_header:                        ; Multiboot Specification 0.6.96, §3.1
        dd 0x1BADB002
        dd MB_FLAGS
        dd -(0x1BADB002 + MB_FLAGS)
        dd multiboot_header              ; header_addr
        dd LOAD                          ; load_addr
        dd 0                             ; load_end_addr: the whole file
        dd 0                             ; bss_end_addr: no bss
        dd start                         ; entry_addr

        db "LOOPREPEAT"
repeat: dd 1

start:
        mov esp, STACK
        mov ebx, DATA
        mov ebp, [repeat]
.again:
        bench_loop_run_and_check
        out POST_PORT, al                ; a pass ended: v86's bench handler notes the time (a no-op port elsewhere)
        dec ebp
        jnz .again
        PRINT "ok", 10
        EXIT 0

        console_routines 32
