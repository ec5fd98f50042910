; descriptor-cache - a segment register works from its hidden descriptor cache, not from the GDT.
;
; Each segment register holds a visible selector and a hidden copy of the descriptor it selected, taken when
; the register was loaded. Rewriting the descriptor in memory does not touch that copy: the register keeps its
; old base and limit until it is loaded again. Real mode loads only set the base, which is why limits loaded
; in protected mode survive a return to real mode ("unreal mode").
;
; Steps, each printed as it happens:
;   1. real mode -> 32-bit protected mode (flat code, data and stack)
;   2. DS <- selector 0x18 (base 0x00020000, limit 0xFFFF)
;   3. GDT entry 3 rewritten to base 0x00030000, limit 0x0FFF; DS not reloaded (its cache is now stale)
;   4. stores through DS still land at the OLD base, and an offset beyond the NEW limit still works
;   5. DS reloaded: the new base is in effect, and the old offset now raises #GP(0)
;   6. unreal mode: DS/ES <- a 4 GiB descriptor, CR0.PE cleared; real-mode code stores above 1 MiB
;   7. unreal mode left: PE set again, DS/ES <- a 64 KiB descriptor, PE cleared; above 1 MiB now faults
; Every step checks its own claim and the run exits with 0 only if all of them hold.
;
;     nasm -f bin -i ../include/ descriptor-cache.asm -o descriptor-cache.bin
;     npx ringside run examples/descriptor-cache/descriptor-cache.bin --trace segment-load,cache-inconsistent,cache-consistent

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

OLD_BASE        equ 0x00020000  ; base of GDT entry 3 when DS is loaded
OLD_LIMIT       equ 0xFFFF
NEW_BASE        equ 0x00030000  ; base written into entry 3 behind DS's back
NEW_LIMIT       equ 0x0FFF
SLOT            equ 0x100       ; the DS offset the markers are written at
FAR_SLOT        equ 0x2000      ; inside the old limit, beyond the new one
HIGH_ADDRESS    equ 0x00100000  ; 1 MiB: out of reach of a 64 KiB real-mode segment
MARK_OLD        equ 'OLD!'
MARK_NEW        equ 'NEW!'
MARK_BIG        equ 'BIG!'
IVT_GP          equ 13 * 4      ; real-mode IVT entry of #GP (interrupt 13)

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        PRINT "descriptor-cache: segment registers use a hidden copy of their descriptor", 10
        PRINT "[1] protected mode; CS, DS, ES, SS flat (base 0, limit 4 GiB)", 10

        ; The marker slots start empty, at both bases. ES stays flat throughout and is the program's way to
        ; look at memory as it really is.
        mov dword [es:OLD_BASE + SLOT], 0
        mov dword [es:NEW_BASE + SLOT], 0
        mov dword [es:OLD_BASE + FAR_SLOT], 0

; ---- 2. load DS from GDT entry 3
        mov ax, SEL_WINDOW
        mov ds, ax
        PRINT "[2] DS <- 0x0018: cache base 0x00020000 limit 0x0000FFFF, copied from GDT entry 3", 10

; ---- 3. rewrite entry 3 without reloading DS
        mov dword [es:gdt + SEL_WINDOW], DESC_LO(NEW_BASE, NEW_LIMIT)
        mov dword [es:gdt + SEL_WINDOW + 4], DESC_HI(NEW_BASE, NEW_LIMIT, ACC_DATA, FL_DB)
        PRINT "[3] GDT entry 3 rewritten: base 0x00030000 limit 0x00000FFF; DS not reloaded, so its cache is stale", 10

; ---- 4. DS still works through the old cache
        mov dword [SLOT], MARK_OLD              ; DS:0x100
        mov dword [FAR_SLOT], MARK_OLD          ; DS:0x2000, allowed by the cached limit 0xFFFF only
        cmp dword [es:OLD_BASE + SLOT], MARK_OLD
        FAIL_IF ne, "the store through DS did not reach the old base 0x00020000"
        cmp dword [es:NEW_BASE + SLOT], 0
        FAIL_IF ne, "the store through the stale DS reached the new base 0x00030000"
        cmp dword [es:OLD_BASE + FAR_SLOT], MARK_OLD
        FAIL_IF ne, "the store at DS:0x2000 did not reach 0x00022000"
        mov eax, [SLOT]
        cmp eax, MARK_OLD
        FAIL_IF ne, "reading DS:0x100 back did not give the marker"
        PRINT "[4] stored 'OLD!' at DS:0x0100 and DS:0x2000; the flat view finds it at 0x00020100 and 0x00022000:", 10
        PRINT "    DS still uses the old base and the old limit from its cache", 10

; ---- 5. reload DS: now the new descriptor counts
        mov ax, ds                              ; same selector...
        mov ds, ax                              ; ...but a load copies GDT entry 3 again
        mov dword [SLOT], MARK_NEW
        cmp dword [es:NEW_BASE + SLOT], MARK_NEW
        FAIL_IF ne, "after the reload the store did not reach the new base 0x00030000"
        cmp dword [es:OLD_BASE + SLOT], MARK_OLD
        FAIL_IF ne, "after the reload the store overwrote the old base"
        PRINT "[5] DS reloaded (mov ds, ax with the same selector): 'NEW!' at DS:0x0100 lands at 0x00030100", 10
        PRINT "    DS:0x2000 is now beyond the limit 0x0FFF, so reading it must raise #GP(0):", 10
        EXPECT_FAULT 13, 0, .beyond_limit, .after_limit
.beyond_limit:
        mov eax, [FAR_SLOT]
.after_limit:
        ASSERT_FAULT_TAKEN

; ---- 6. unreal mode: protected-mode limits survive in real mode
        mov ax, SEL_BIG                         ; 4 GiB data descriptor, 16-bit (B=0)
        mov ds, ax
        mov es, ax
        mov ax, SEL_REAL                        ; SS: 64 KiB, B=0, so real-mode pushes use SP as usual
        mov ss, ax
        jmp SEL_CODE16:.code16                  ; real mode wants a 16-bit CS with a 64 KiB limit first
        bits 16
.code16:
        mov eax, cr0
        and eax, ~CR0_PE
        mov cr0, eax
        jmp 0x0000:.real                        ; real-mode far jump: CS base = 0
.real:
        xor ax, ax
        mov ss, ax                              ; real-mode loads set base = selector * 16 and keep the limit
        mov ds, ax
        mov es, ax
        lidt [real_idtr]                        ; interrupts go through the IVT at 0 again
        mov eax, MARK_BIG
        mov [dword HIGH_ADDRESS], eax           ; a 32-bit offset (address-size prefix) in real mode
        mov ebx, [dword HIGH_ADDRESS]
        cmp ebx, eax
        FAIL_IF ne, "unreal mode: reading back DS:0x00100000 did not give the marker"
        cmp dword [0], MARK_BIG
        FAIL_IF e, "unreal mode: the store above 1 MiB wrapped around to address 0"
        PRINT "[6] unreal mode: CR0.PE=0 and DS=0x0000, yet DS keeps the 4 GiB limit loaded in protected mode;", 10
        PRINT "    stored 'BIG!' at DS:0x00100000 (1 MiB) and read it back", 10

; ---- 7. leave unreal mode: give DS/ES a 64 KiB limit again
        mov eax, cr0
        or eax, CR0_PE
        mov cr0, eax
        jmp SEL_CODE16:.code16_again
.code16_again:
        mov ax, SEL_REAL
        mov ds, ax
        mov es, ax
        mov eax, cr0
        and eax, ~CR0_PE
        mov cr0, eax
        jmp 0x0000:.real_again
.real_again:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov word [IVT_GP], real_gp_handler
        mov word [IVT_GP + 2], 0
        mov word [real_resume], .after_real_fault
.real_fault:
        mov eax, [dword HIGH_ADDRESS]           ; beyond 0xFFFF: #GP, interrupt 13 through the IVT
.after_real_fault:
        cmp word [real_faults], 1
        FAIL_IF ne, "after leaving unreal mode, DS:0x00100000 did not raise #GP"
        PRINT "[7] unreal mode left: PE set, DS/ES <- 64 KiB descriptor, PE cleared;", 10
        PRINT "    DS:0x00100000 now raises #GP (interrupt 13 through the real-mode IVT)", 10
        PRINT "ok", 10
        EXIT 0

; Real-mode #GP handler: no error code in real mode; the frame is IP, CS, FLAGS. Count and skip.
real_gp_handler:
        push bp
        mov bp, sp
        push ax
        inc word [ss:real_faults]
        mov ax, [ss:real_resume]
        mov [bp + 2], ax
        pop ax
        pop bp
        iret

        console_routines 16

        bits 32
        console_routines 32
        exception_reporter

real_faults:    dw 0
real_resume:    dw 0

        gdt_start
SEL_WINDOW equ $ - gdt                          ; entry 3: the descriptor the demo rewrites
        descriptor OLD_BASE, OLD_LIMIT, ACC_DATA, FL_DB
SEL_BIG equ $ - gdt                             ; 4 GiB, B=0: for unreal mode
        descriptor 0, 0xFFFFF, ACC_DATA, FL_G
SEL_REAL equ $ - gdt                            ; 64 KiB, byte granular: what real mode expects
        descriptor 0, 0xFFFF, ACC_DATA, 0
SEL_CODE16 equ $ - gdt                          ; 16-bit code, 64 KiB: the way back to real mode
        descriptor 0, 0xFFFF, ACC_CODE, 0
gdt_end:

        idt_start
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
real_idtr:
        dw 0x3FF                                ; the real-mode IVT: 256 vectors of 4 bytes at 0
        dd 0
