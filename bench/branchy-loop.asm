; branchy-loop - a loop whose body is several short translated blocks joined by branches, a call and a return:
; what block-to-block transitions cost (bench/run.mjs). 32-bit protected mode, flat segments, 2,000,000 passes of
;     test, jz, add + jmp | sub, call, xor, rol, store, ret, dec, jnz   (11 or 10 instructions per pass)
; The results are checked against a model computed outside the guest, as in examples/bench-loop.
;
;     nasm -f bin -i ../examples/include/ branchy-loop.asm -o branchy-loop.bin

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

PASSES          equ 2000000
DATA            equ 0x00010000
; EAX and EDX after the loop, from a model of the pass (initial EAX = EDX = 0).
EXPECT_EAX      equ 0xB7DAB586
EXPECT_EDX      equ 0x2B4BADC0

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        mov ebx, DATA
        xor eax, eax
        xor edx, edx
        mov ecx, PASSES

        align 16
.loop:
        test ecx, 1
        jz .even
        add eax, ecx
        jmp .join
.even:
        sub edx, ecx
.join:
        call mix
        dec ecx
        jnz .loop

        cmp eax, EXPECT_EAX
        FAIL_IF ne, "EAX after the loop differs from the model"
        cmp edx, EXPECT_EDX
        FAIL_IF ne, "EDX after the loop differs from the model"
        EXIT 0

mix:
        xor eax, edx
        rol eax, 5
        mov [ebx], eax
        ret

        console_routines 32

        gdt_start
gdt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
