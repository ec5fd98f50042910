; stale-cache-gp - a #GP that only the stale descriptor cache of DS explains, and a handler that cures it.
;
; DS is loaded from GDT entry 3 (base 0x00020000, one page: limit 0x0FFF). The program then grows its table: it
; raises the limit of entry 3 to 0xFFFF in the GDT, but does not load DS again. A store at DS:0x2000 is inside the
; descriptor's new limit, yet it raises #GP(0): a data access is checked against the limit in the segment
; register's hidden cache (SDM vol. 3A, 3.4.3 "Segment Registers" and 5.3 "Limit Checking"), and that cache still
; holds the limit of the load, 0x0FFF. The #GP handler reloads DS (the load copies the new descriptor) and returns
; to the faulting store, which now succeeds.
;
; This is the guest of the reverse-execution walk-through (README, "Reverse execution"): stop on the #GP with the
; cpu-exception filter, Reverse Continue with descriptor-write to the store that raised the limit, and again with
; segment-load (reg == DS) to the load that filled the cache.
;
;     nasm -f bin -i ../include/ stale-cache-gp.asm -o stale-cache-gp.bin
;     npx ringside run examples/stale-cache-gp/stale-cache-gp.bin --trace segment-load,descriptor-write,cpu-exception

%include "guest.inc"

%define VECTOR_13_HANDLER gp_handler

        org LOAD_ADDRESS
        bits 16

TABLE_BASE      equ 0x00020000  ; base of GDT entry 3 throughout
OLD_LIMIT       equ 0x0FFF      ; entry 3's limit when DS is loaded: one page
NEW_LIMIT       equ 0xFFFF      ; the limit written into entry 3 behind DS's back
FIRST_SLOT      equ 0x0100      ; inside both limits
FAR_SLOT        equ 0x2000      ; beyond the old limit, inside the new one
MARK_FIRST      equ 'ONE!'
MARK_FAR        equ 'FAR!'
ACC_ACCESSED    equ 0x01        ; set in the GDT already, so that loading DS writes nothing into the table

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        PRINT "stale-cache-gp: a data access is checked against the limit in the segment register's cache", 10

        ; ES stays flat throughout: the program's view of memory as it is.
        mov dword [es:TABLE_BASE + FIRST_SLOT], 0
        mov dword [es:TABLE_BASE + FAR_SLOT], 0

; ---- 1. DS <- selector 0x18: the cache takes base 0x00020000, limit 0x0FFF from GDT entry 3
        mov ax, SEL_TABLE
        mov ds, ax
        mov dword [FIRST_SLOT], MARK_FIRST
        cmp dword [es:TABLE_BASE + FIRST_SLOT], MARK_FIRST
        FAIL_IF ne, "the store at DS:0x0100 did not reach 0x00020100"
        PRINT "[1] DS <- 0x0018 (base 0x00020000, limit 0x00000FFF); 'ONE!' stored at DS:0x0100", 10

; ---- 2. the table grows: entry 3's limit raised in the GDT (one store, the low word); DS is not reloaded
        mov word [es:gdt + SEL_TABLE], NEW_LIMIT
        PRINT "[2] GDT entry 3's limit raised to 0x0000FFFF; DS not reloaded: its cache still says 0x00000FFF", 10

; ---- 3. a store beyond the cached limit: #GP(0), whatever the GDT now says
        PRINT "[3] storing at DS:0x2000, beyond the cached limit:", 10
.far_store:
        mov dword [FAR_SLOT], MARK_FAR
        cmp dword [ss:gp_count], 1
        FAIL_IF ne, "the store beyond the cached limit did not raise exactly one #GP"
        cmp dword [es:TABLE_BASE + FAR_SLOT], MARK_FAR
        FAIL_IF ne, "the retried store at DS:0x2000 did not reach 0x00022000"
        PRINT "[4] the retried store reached 0x00022000: the reloaded cache has the new limit", 10
        PRINT "ok", 10
        EXIT 0

; #GP handler (32-bit interrupt gate, ring 0 to ring 0): the frame is error code, EIP, CS, EFLAGS. It checks that
; this is the #GP the program expects, reloads DS, and returns to the faulting store (a fault's EIP points at the
; faulting instruction, SDM vol. 3A, 6.5 "Exception Classifications"), which runs again with the new cache.
gp_handler:
        push eax
        push ebp
        mov ebp, esp            ; [ebp + 8] error code, [ebp + 12] EIP
        inc dword [ss:gp_count]
        cmp dword [ss:gp_count], 1
        FAIL_IF ne, "a second #GP: the reload did not cure the first"
        cmp dword [ebp + 8], 0
        FAIL_IF ne, "#GP with a nonzero error code: a limit violation gives 0"
        cmp dword [ebp + 12], start.far_store
        FAIL_IF ne, "#GP elsewhere than at the store beyond the cached limit"
        PRINT "    #GP(0) at 0x0008:"
        PRINT_HEX [ebp + 12], 8
        PRINT "; the GDT allows DS:0x2000, the cache does not: reloading DS and retrying", 10
        mov ax, SEL_TABLE       ; the same selector: the load copies entry 3 as it is now
        mov ds, ax
        pop ebp
        pop eax
        add esp, 4              ; the error code
        iretd

        console_routines 32
        exception_reporter

gp_count:       dd 0

        gdt_start
SEL_TABLE equ $ - gdt                           ; entry 3: the table's segment, whose limit the program raises
        descriptor TABLE_BASE, OLD_LIMIT, ACC_DATA | ACC_ACCESSED, FL_DB
gdt_end:

        idt_start
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
