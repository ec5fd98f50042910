; paging-loop - bench-loop's ten-instruction loop (examples/bench-loop) with paging on, for `node bench/paging-run.mjs`.
;
; The same loop and the same model results as bench-loop, but CR0.PG = 1: 0..4 MiB is identity-mapped with 4 KiB
; pages, and the loop's data live at linear 12 MiB, a page mapped onto physical DATA. Every load, store and
; instruction fetch goes through the page tables (through the TLB after the first access), so the figure beside
; bench-loop's shows what paging costs.
;
;     nasm -f bin -i ../examples/include/ paging-loop.asm -o paging-loop.bin

%include "guest.inc"
%include "bench-loop.inc"

        org LOAD_ADDRESS
        bits 16

DATA            equ 0x00010000  ; physical frame of the four dwords the loop stores to and loads from
DATA_LINEAR     equ 0x00C00000  ; their linear address (directory entry 3)
PAGE_DIRECTORY  equ 0x00020000
PAGE_TABLE_LOW  equ 0x00021000  ; identity map of 0..4 MiB
PAGE_TABLE_DATA equ 0x00022000  ; linear 12 MiB: one page, mapped onto DATA
PTE_P           equ 1 << 0
PTE_RW          equ 1 << 1

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
        bench_loop_run_and_check
        cmp dword [DATA + 12], EXPECT_DATA12    ; the identity view of the same frame
        FAIL_IF ne, "the data did not land in the frame the page table names"
        PRINT "ok", 10
        EXIT 0

        console_routines 32

        gdt_start
gdt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
