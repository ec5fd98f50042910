; paging-loop - bench-loop's ten-instruction loop (examples/bench-loop) with paging on, for `node bench/paging-run.mjs`.
;
; The same loop and the same model results as bench-loop, but CR0.PG = 1: 0..4 MiB is identity-mapped with 4 KiB
; pages, and the loop's data live at linear 12 MiB, a page mapped onto physical DATA. Every load, store and
; instruction fetch goes through the page tables (through the TLB after the first access), so the figure beside
; bench-loop's shows what paging costs.
;
;     nasm -f bin -i ../examples/include/ paging-loop.asm -o paging-loop.bin

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

ITERATIONS      equ 5000000
DATA            equ 0x00010000  ; physical frame of the four dwords the loop stores to and loads from
DATA_LINEAR     equ 0x00C00000  ; their linear address (directory entry 3)
PAGE_DIRECTORY  equ 0x00020000
PAGE_TABLE_LOW  equ 0x00021000  ; identity map of 0..4 MiB
PAGE_TABLE_DATA equ 0x00022000  ; linear 12 MiB: one page, mapped onto DATA
PTE_P           equ 1 << 0
PTE_RW          equ 1 << 1

; Register and memory state after the loop, from a model of the ten instructions (initial state: EAX = EDX = 0,
; ECX = ITERATIONS, the four dwords at DATA zero).
EXPECT_EAX      equ 0x620D66DD
EXPECT_EDX      equ 0xA738F104
EXPECT_DATA0    equ 0xAC41ACDB  ; [DATA]      last store of the running sum
EXPECT_DATA8    equ 0x43B88014  ; [DATA + 8]  the chain that the load and lea follow
EXPECT_DATA12   equ 0x20AB130A  ; [DATA + 12] accumulated by add-to-memory

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        PRINT "paging-loop: 5000000 iterations of 10 instructions, paging on", 10
        mov edi, PAGE_DIRECTORY                 ; clear the directory and both tables
        mov ecx, 3 * 4096 / 4
        xor eax, eax
        cld
        rep stosd
        mov edi, PAGE_TABLE_LOW                 ; identity: PTE i -> frame i
        mov eax, PTE_P | PTE_RW
        mov ecx, 1024
.identity:
        stosd
        add eax, 4096
        loop .identity
        mov dword [PAGE_TABLE_DATA], DATA | PTE_P | PTE_RW
        mov dword [PAGE_DIRECTORY + 0 * 4], PAGE_TABLE_LOW | PTE_P | PTE_RW
        mov dword [PAGE_DIRECTORY + 3 * 4], PAGE_TABLE_DATA | PTE_P | PTE_RW
        mov eax, PAGE_DIRECTORY
        mov cr3, eax
        mov eax, cr0
        or eax, CR0_PG
        mov cr0, eax
        jmp .paged
.paged:
        mov ebx, DATA_LINEAR
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
        cmp dword [DATA + 12], EXPECT_DATA12    ; the identity view of the same frame
        FAIL_IF ne, "the data did not land in the frame the page table names"
        PRINT "ok", 10
        EXIT 0

        console_routines 32

        gdt_start
gdt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
