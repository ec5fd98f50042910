; seed-sequence - the scenario the monitor was built for (design/model.md §2 and §3).
;
; A ring-0 guest kernel
;   1. loads DS, ES, FS, GS with four selectors whose descriptors differ (each base holds its own marker);
;   2. rewrites all four descriptors in the GDT: new bases (and a new limit for FS) - every data segment
;      cache is now inconsistent with the table;
;   3. takes an interrupt (INT 0x30 through an IDT gate) and returns: under the monitor this is the return
;      path for inconsistent caches (each cache parked in the virtual GDT at its own selector, reloaded, the
;      entries then made inaccessible);
;   4. keeps using the stale caches: every register still reaches its OLD marker;
;   5. reloads one register at a time; each reload sees the new descriptor (its NEW marker) while the others
;      still see their old ones - under the monitor each reload traps and is emulated;
;   6. reaches consistency (the monitor's fast return path applies again);
;   7. two registers sharing one selector with different caches: DS and ES <- selector 0x38, its descriptor
;      rewritten, only ES reloaded, an interrupt taken - DS must still see the old base and ES the new one;
;   8. drops to ring 3 through IRET (the TSS gives the ring-0 stack) with every selector RPL 3 and every
;      descriptor DPL 3 (under the monitor, SBE can turn off here), runs a short loop and exits through
;      port 0xF4 (IOPL 3 in the EFLAGS image lets ring 3 do port I/O).
;
;     nasm -f bin -i ../include/ seed-sequence.asm -o seed-sequence.bin
;     npx ringside run examples/seed-sequence/seed-sequence.bin --monitor --trace monitor-trap,sbe-change,cache-inconsistent,cache-consistent

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

INTERRUPT_VECTOR equ 0x30
USER_STACK      equ 0x6000
SEG_LIMIT       equ 0xFFFF
FS_NEW_LIMIT    equ 0x0FFF
LOOP_COUNT      equ 1000
LOOP_SUM        equ LOOP_COUNT * (LOOP_COUNT + 1) / 2

; Bases before and after the rewrite; offset 0 of each holds a marker naming it.
DS_OLD  equ 0x00020000
ES_OLD  equ 0x00021000
FS_OLD  equ 0x00022000
GS_OLD  equ 0x00023000
SH_OLD  equ 0x00024000          ; the shared selector of step 7
DS_NEW  equ 0x00028000
ES_NEW  equ 0x00029000
FS_NEW  equ 0x0002A000
GS_NEW  equ 0x0002B000
SH_NEW  equ 0x0002C000

; MARK base, 'text': the marker at offset 0 of a base, written through the flat SS
%macro MARK 2
        mov dword [ss:%1], %2
%endmacro

; EXPECT_MARKS ds, es, fs, gs: each register reaches the marker given (through its cache, offset 0)
%macro EXPECT_MARKS 4
        cmp dword [ds:0], %1
        FAIL_IF ne, "DS does not reach the base its cache should hold"
        cmp dword [es:0], %2
        FAIL_IF ne, "ES does not reach the base its cache should hold"
        cmp dword [fs:0], %3
        FAIL_IF ne, "FS does not reach the base its cache should hold"
        cmp dword [gs:0], %4
        FAIL_IF ne, "GS does not reach the base its cache should hold"
%endmacro

; REWRITE selector, base, limit: a new data descriptor (DPL 0) at the selector's GDT entry, through SS
%macro REWRITE 3
        mov dword [ss:gdt + (%1)], DESC_LO(%2, %3)
        mov dword [ss:gdt + (%1) + 4], DESC_HI(%2, %3, ACC_DATA, 0)
%endmacro

; RELOAD reg: load the register again with the selector it holds
%macro RELOAD 1
        mov ax, %1
        mov %1, ax
%endmacro

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        mov ax, SEL_TSS
        ltr ax
        PRINT "seed-sequence: stale descriptor caches across an interrupt, reloads, then ring 3", 10
        MARK DS_OLD, 'DS:1'
        MARK ES_OLD, 'ES:1'
        MARK FS_OLD, 'FS:1'
        MARK GS_OLD, 'GS:1'
        MARK SH_OLD, 'SH:1'
        MARK DS_NEW, 'DS:2'
        MARK ES_NEW, 'ES:2'
        MARK FS_NEW, 'FS:2'
        MARK GS_NEW, 'GS:2'
        MARK SH_NEW, 'SH:2'

; ---- 1. four registers, four descriptors
        mov ax, SEL_DS_SEG
        mov ds, ax
        mov ax, SEL_ES_SEG
        mov es, ax
        mov ax, SEL_FS_SEG
        mov fs, ax
        mov ax, SEL_GS_SEG
        mov gs, ax
        EXPECT_MARKS 'DS:1', 'ES:1', 'FS:1', 'GS:1'
        PRINT "[1] DS=0x0018 ES=0x0020 FS=0x0028 GS=0x0030 loaded: bases 0x00020000..0x00023000", 10

; ---- 2. rewrite their descriptors
        REWRITE SEL_DS_SEG, DS_NEW, SEG_LIMIT
        REWRITE SEL_ES_SEG, ES_NEW, SEG_LIMIT
        REWRITE SEL_FS_SEG, FS_NEW, FS_NEW_LIMIT
        REWRITE SEL_GS_SEG, GS_NEW, SEG_LIMIT
        PRINT "[2] their four GDT entries rewritten (bases 0x00028000..0x0002B000, FS limit 0x0FFF): caches inconsistent", 10

; ---- 3. an interrupt with inconsistent caches
        int INTERRUPT_VECTOR
        cmp dword [ss:interrupts_taken], 1
        FAIL_IF ne, "INT 0x30 did not reach its handler"
        PRINT "[3] INT 0x30 taken and returned", 10

; ---- 4. the stale caches still rule
        EXPECT_MARKS 'DS:1', 'ES:1', 'FS:1', 'GS:1'
        mov eax, [fs:0x2000]                    ; beyond the new FS limit, inside the cached one
        PRINT "[4] DS, ES, FS, GS still reach their old bases (and FS its old limit)", 10

; ---- 5. reload one at a time
        RELOAD ds
        EXPECT_MARKS 'DS:2', 'ES:1', 'FS:1', 'GS:1'
        PRINT "[5] DS reloaded: new base; ES, FS, GS still old", 10
        RELOAD es
        EXPECT_MARKS 'DS:2', 'ES:2', 'FS:1', 'GS:1'
        PRINT "    ES reloaded: new base; FS, GS still old", 10
        RELOAD fs
        EXPECT_MARKS 'DS:2', 'ES:2', 'FS:2', 'GS:1'
        PRINT "    FS reloaded: new base and limit; GS still old", 10
        RELOAD gs
        EXPECT_MARKS 'DS:2', 'ES:2', 'FS:2', 'GS:2'
        PRINT "    GS reloaded: new base", 10

; ---- 6. consistent again
        int INTERRUPT_VECTOR
        EXPECT_MARKS 'DS:2', 'ES:2', 'FS:2', 'GS:2'
        PRINT "[6] all four consistent with the GDT; INT 0x30 taken and returned", 10

; ---- 7. one selector, two caches
        mov ax, SEL_SHARED
        mov ds, ax
        mov es, ax
        REWRITE SEL_SHARED, SH_NEW, SEG_LIMIT
        RELOAD es
        cmp dword [ds:0], 'SH:1'
        FAIL_IF ne, "DS (selector 0x38, not reloaded) does not reach the old base"
        cmp dword [es:0], 'SH:2'
        FAIL_IF ne, "ES (selector 0x38, reloaded) does not reach the new base"
        PRINT "[7] DS and ES both hold selector 0x0038; its entry rewritten and only ES reloaded:", 10
        PRINT "    DS reaches the old base 0x00024000, ES the new base 0x0002C000", 10
        int INTERRUPT_VECTOR
        cmp dword [ds:0], 'SH:1'
        FAIL_IF ne, "after INT 0x30, DS (selector 0x38) lost its old cache"
        cmp dword [es:0], 'SH:2'
        FAIL_IF ne, "after INT 0x30, ES (selector 0x38) lost its new cache"
        RELOAD ds
        cmp dword [ds:0], 'SH:2'
        FAIL_IF ne, "DS reloaded with selector 0x38 does not reach the new base"
        PRINT "    INT 0x30 taken: both still right; DS reloaded: both at the new base, consistent", 10

; ---- 8. ring 3
        mov ax, SEL_USER_DATA
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        PRINT "[8] IRET to ring 3: CS 0x0043, SS/DS/ES/FS/GS 0x004B (RPL 3, DPL 3), IOPL 3", 10
        IRET_TO_RING3 SEL_USER_CODE, SEL_USER_DATA, USER_STACK, user_main, EFLAGS_RESERVED | EFLAGS_IOPL3

soft_interrupt:                                 ; touches no segment register
        inc dword [ss:interrupts_taken]
        iretd

; ================================================================ ring 3
user_main:
        ASSERT_CPL 3, "IRET did not enter CPL 3"
        xor eax, eax
        mov ecx, LOOP_COUNT
.sum:
        add eax, ecx
        mov [loop_result], eax
        dec ecx
        jnz .sum
        cmp dword [loop_result], LOOP_SUM
        FAIL_IF ne, "the ring-3 loop computed the wrong sum"
        PRINT "    ring 3: summed 1..1000 = 500500 in a loop", 10
        PRINT "ok", 10
        EXIT 0

        console_routines 32
        exception_reporter

        align 4
interrupts_taken:       dd 0
loop_result:            dd 0

        align 4
tss:    tss32 0, STACK_TOP, SEL_CODE, SEL_FLAT, EFLAGS_RESERVED
tss_end:

        gdt_start
SEL_DS_SEG equ $ - gdt
        descriptor DS_OLD, SEG_LIMIT, ACC_DATA, 0
SEL_ES_SEG equ $ - gdt
        descriptor ES_OLD, SEG_LIMIT, ACC_DATA, 0
SEL_FS_SEG equ $ - gdt
        descriptor FS_OLD, SEG_LIMIT, ACC_DATA, 0
SEL_GS_SEG equ $ - gdt
        descriptor GS_OLD, SEG_LIMIT, ACC_DATA, 0
SEL_SHARED equ $ - gdt
        descriptor SH_OLD, SEG_LIMIT, ACC_DATA, 0
        user_segments
SEL_TSS equ $ - gdt
        descriptor ABS(tss), tss_end - tss - 1, ACC_TSS32, 0
gdt_end:

        idt_start
        gate_at INTERRUPT_VECTOR, soft_interrupt, SEL_CODE, GATE_INT32
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
