; long-loop - the integer loop of examples/bench-loop, run and checked over and over without end, so a host run of
; any length (10^10 instructions for bench/memory.mjs) stays in translated code the whole time. Each round is
; bench-loop's five million iterations of ten instructions and its check against the model; a wrong result exits
; with code 1, so the memory figures are never taken on a CPU that went astray.
;
;     nasm -f bin -i ../examples/include/ long-loop.asm -o long-loop.bin

%include "guest.inc"
%include "bench-loop.inc"

        org LOAD_ADDRESS
        bits 16

DATA            equ 0x00010000

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        mov ebx, DATA
.round:
        bench_loop_run_and_check
        jmp .round

        console_routines 32

        gdt_start
gdt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
