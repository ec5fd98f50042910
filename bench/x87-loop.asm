; x87-loop - the x87-heavy loop behind `npm run bench`, printed beside the integer bench-loop.
;
; 32-bit protected mode with flat segments, then exactly ten instructions per iteration, eight of them x87:
;     fmul m32, fadd m32, fsqrt, fld st0, fdiv m32, faddp, fst m64, fist m32, dec, jnz
; ITERATIONS = 20,000 times: 200,000 loop instructions, the whole run repeated REPEAT times (a dword after the
; "X87REPEAT" mark, 1 here; bench/run.mjs patches it to time QEMU on a longer run without its start-up). After each
; run the x87 registers and the stores are compared with the values the same instructions give on a real x87
; (bench/x87-loop-model.c prints them), so a wrong FPU fails the benchmark instead of timing it.
; It is also a boot sector (512 bytes with the 55AA signature), so QEMU boots the same bytes from a floppy.
;
;     nasm -f bin -i ../examples/include/ x87-loop.asm -o x87-loop.bin

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

DATA            equ 0x00010000  ; the loop's stores

ITERATIONS      equ 20000
; From bench/x87-loop-model.c on the host's x87.
EXPECT_SUM_LO   equ 0x11326D43
EXPECT_SUM_HI   equ 0xBF775D55
EXPECT_SUM_SE   equ 0x400C
EXPECT_X_LO     equ 0xE08EFD71
EXPECT_X_HI     equ 0xEB467369
EXPECT_X_SE     equ 0x3FFF
EXPECT_ROUNDED  equ 2

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        mov ebx, DATA
        mov ebp, [repeat]
.again:
        fninit
        fldz                            ; sum
        fld1                            ; x
        mov ecx, ITERATIONS
        align 16
.loop:                                  ; exactly ten instructions
        fmul dword [k]                  ;  1 x × 0.75
        fadd dword [two]                ;  2 + 2
        fsqrt                           ;  3 x = √(…)
        fld st0                         ;  4 x, x, sum
        fdiv dword [three]              ;  5 x/3, x, sum
        faddp st2, st0                  ;  6 x, sum + x/3
        fst qword [ebx]                 ;  7 x as a double
        fist dword [ebx + 8]            ;  8 x rounded to an integer
        dec ecx                         ;  9
        jnz .loop                       ; 10
        fstp tword [ebx + 16]
        fstp tword [ebx + 32]
        cmp dword [ebx + 16], EXPECT_X_LO
        jne .fail
        cmp dword [ebx + 20], EXPECT_X_HI
        jne .fail
        cmp word [ebx + 24], EXPECT_X_SE
        jne .fail
        cmp dword [ebx + 32], EXPECT_SUM_LO
        jne .fail
        cmp dword [ebx + 36], EXPECT_SUM_HI
        jne .fail
        cmp word [ebx + 40], EXPECT_SUM_SE
        jne .fail
        cmp dword [ebx + 8], EXPECT_ROUNDED
        jne .fail
        dec ebp
        jnz .again
        EXIT 0
.fail:
        EXIT 1

k:      dd 0.75
two:    dd 2.0
three:  dd 3.0
        db "X87REPEAT"
repeat: dd 1

        gdt_start
gdt_end:

gdtr:   pseudo_descriptor gdt, gdt_end

        times 510-($-$$) db 0
        dw 0xAA55
