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

        org LOAD_ADDRESS
        bits 16

ITERATIONS      equ 5000000
DATA            equ 0x00010000  ; four dwords the loop stores to and loads from

; Register and memory state after the loop, from a model of the ten instructions (initial state: EAX = EDX = 0,
; ECX = ITERATIONS, the four dwords at DATA zero).
EXPECT_EAX      equ 0x620D66DD
EXPECT_EDX      equ 0xA738F104
EXPECT_DATA0    equ 0xAC41ACDB  ; [DATA]      last store of the running sum
EXPECT_DATA8    equ 0x43B88014  ; [DATA + 8]  the chain that the load and lea follow
EXPECT_DATA12   equ 0x20AB130A  ; [DATA + 12] accumulated by add-to-memory

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        PRINT "bench-loop: 5000000 iterations of 10 instructions", 10
        mov ebx, DATA
        xor eax, eax
        mov [ebx], eax
        mov [ebx + 4], eax
        mov [ebx + 8], eax
        mov [ebx + 12], eax
        xor edx, edx
        mov ecx, ITERATIONS

        align 16
.loop:                                  ; exactly ten instructions
        add eax, ecx                    ;  1 add
        mov [ebx], eax                  ;  2 store
        xor edx, eax                    ;  3 xor
        mov esi, [ebx + 8]              ;  4 load
        lea edi, [esi + edx * 2 + 8]    ;  5 lea
        mov [ebx + 8], edi              ;  6 store
        add [ebx + 12], edx             ;  7 add-to-memory
        rol eax, 3                      ;  8 rol
        dec ecx                         ;  9 dec
        jnz .loop                       ; 10 jnz

        cmp eax, EXPECT_EAX
        FAIL_IF ne, "EAX after the loop differs from the model"
        cmp edx, EXPECT_EDX
        FAIL_IF ne, "EDX after the loop differs from the model"
        cmp dword [ebx], EXPECT_DATA0
        FAIL_IF ne, "[DATA] after the loop differs from the model"
        cmp dword [ebx + 8], EXPECT_DATA8
        FAIL_IF ne, "[DATA + 8] after the loop differs from the model"
        cmp dword [ebx + 12], EXPECT_DATA12
        FAIL_IF ne, "[DATA + 12] after the loop differs from the model"
        PRINT "ok", 10
        EXIT 0

        console_routines 32

        gdt_start
gdt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
