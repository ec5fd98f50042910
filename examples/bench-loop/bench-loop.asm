; bench-loop - the integer loop behind `npm run bench` (design/performance.md).
;
; 32-bit protected mode with flat segments, then exactly ten instructions per iteration
;     add, store, xor, load, lea, store, add-to-memory, rol, dec, jnz
; repeated ITERATIONS = 5,000,000 times: 50,000,000 loop instructions. Setup, the result check and the
; output add a few hundred more. The loop's results are compared with values computed outside the guest
; (a model of the same ten instructions), so a wrong CPU fails the benchmark instead of timing it.
;
;     nasm -f bin -i ../include/ bench-loop.asm -o bench-loop.bin
;     npx ringside run examples/bench-loop/bench-loop.bin --json

%include "guest.inc"
%include "bench-loop.inc"

        org LOAD_ADDRESS
        bits 16

DATA            equ 0x00010000  ; four dwords the loop stores to and loads from

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        PRINT "bench-loop: 5000000 iterations of 10 instructions", 10
        mov ebx, DATA
        bench_loop_run_and_check
        PRINT "ok", 10
        EXIT 0

        console_routines 32

        gdt_start
gdt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
