; paging - two-level paging with 4 KiB pages, a 4 MiB page, and a page-fault handler that maps on demand.
;
;   1. page directory: entry 0 -> a page table that identity-maps 0..4 MiB with 4 KiB pages;
;      entry 1: a 4 MiB page, identity (linear 4 MiB -> physical 4 MiB), CR4.PSE;
;      entry 2: a 4 MiB page aliasing the same physical 4 MiB at linear 8 MiB;
;      entry 3 -> an empty page table: linear 12..16 MiB is mapped on demand by the #PF handler
;   2. a store through the alias (8 MiB) is read back through the identity page (4 MiB); the accessed and
;      dirty bits of both directory entries show which was written (SDM vol. 3A, "Accessed and Dirty Flags")
;   3. demand paging: two stores and a load in the empty region fault (#PF, error code: P=0, W/R as the
;      access, U/S=0; CR2 = the address); the handler gives each page a zeroed frame and the access restarts
;   4. CR0.WP: a store to a page marked read-only faults even at CPL 0 (error code P=1 W/R=1); the handler
;      makes it writable and flushes that TLB entry with INVLPG
;   5. INVLPG after unmapping a page: the next access faults again and gets a fresh frame
;
;     nasm -f bin -i ../include/ paging.asm -o paging.bin
;     npx ringside run examples/paging/paging.bin --trace cpu-exception

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

PAGE_DIRECTORY  equ 0x00020000
PAGE_TABLE_LOW  equ 0x00021000  ; identity map of 0..4 MiB
PAGE_TABLE_DEMAND equ 0x00022000 ; linear 12..16 MiB, filled by the #PF handler
FRAME_POOL      equ 0x00100000  ; frames handed out by the handler (inside the identity-mapped 4 MiB)
MIB             equ 0x00100000
IDENTITY_4M     equ 4 * MIB     ; directory entry 1
ALIAS_4M        equ 8 * MIB     ; directory entry 2 -> physical 4 MiB
DEMAND_BASE     equ 12 * MIB    ; directory entry 3
PAGE            equ 0x1000

PTE_P           equ 1 << 0      ; present
PTE_RW          equ 1 << 1      ; writable
PTE_A           equ 1 << 5      ; accessed
PTE_D           equ 1 << 6      ; dirty
PDE_PS          equ 1 << 7      ; 4 MiB page (with CR4.PSE)
PF_P            equ 1 << 0      ; #PF error code: protection violation (else not present)
PF_W            equ 1 << 1      ; the access was a write
CPUID_PSE       equ 1 << 3      ; CPUID.1:EDX

%define VECTOR_14_HANDLER page_fault

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        PRINT "paging: identity map, a 4 MiB page, #PF handler mapping on demand", 10

        mov eax, 1
        cpuid
        test edx, CPUID_PSE
        FAIL_IF z, "CPUID does not report PSE (4 MiB pages)"

; ---- 1. build the tables
        mov edi, PAGE_DIRECTORY                 ; clear the directory and both tables
        mov ecx, 3 * PAGE / 4
        xor eax, eax
        rep stosd
        mov edi, PAGE_TABLE_LOW                 ; identity: PTE i -> frame i
        mov eax, PTE_P | PTE_RW
        mov ecx, 1024
.identity:
        stosd
        add eax, PAGE
        loop .identity
        mov dword [PAGE_DIRECTORY + 0 * 4], PAGE_TABLE_LOW | PTE_P | PTE_RW
        mov dword [PAGE_DIRECTORY + 1 * 4], IDENTITY_4M | PDE_PS | PTE_P | PTE_RW
        mov dword [PAGE_DIRECTORY + 2 * 4], IDENTITY_4M | PDE_PS | PTE_P | PTE_RW
        mov dword [PAGE_DIRECTORY + 3 * 4], PAGE_TABLE_DEMAND | PTE_P | PTE_RW

        mov eax, cr4
        or eax, CR4_PSE
        mov cr4, eax
        mov eax, PAGE_DIRECTORY
        mov cr3, eax
        mov eax, cr0
        or eax, CR0_PG
        mov cr0, eax
        jmp .paged                              ; this code is identity-mapped, so it carries on
.paged:
        PRINT "[1] paging on: 0..4 MiB identity (4 KiB pages), 4 MiB page at 4 MiB, alias at 8 MiB", 10

; ---- 2. the 4 MiB alias
        mov dword [IDENTITY_4M + 0x123], 0
        mov dword [ALIAS_4M + 0x123], 'BIG4'
        cmp dword [IDENTITY_4M + 0x123], 'BIG4'
        FAIL_IF ne, "a store at 8 MiB + 0x123 did not show at 4 MiB + 0x123 (the alias)"
        test dword [PAGE_DIRECTORY + 2 * 4], PTE_D
        FAIL_IF z, "the 4 MiB page written through (entry 2) is not dirty"
        test dword [PAGE_DIRECTORY + 2 * 4], PTE_A
        FAIL_IF z, "the 4 MiB page written through (entry 2) is not accessed"
        test dword [PAGE_DIRECTORY + 1 * 4], PTE_A
        FAIL_IF z, "the 4 MiB page read through (entry 1) is not accessed"
        PRINT "[2] 'BIG4' stored at 0x00800123 reads back at 0x00400123; both 4 MiB entries accessed, the alias dirty", 10

; ---- 3. demand paging
        PRINT "[3] touching three pages of the empty region at 12 MiB:", 10
        mov dword [DEMAND_BASE + 0x10], 'PG-0'
        mov dword [DEMAND_BASE + PAGE + 0x20], 'PG-1'
        mov eax, [DEMAND_BASE + 5 * PAGE]
        cmp eax, 0
        FAIL_IF ne, "a demand-mapped page did not read as zero"
        cmp dword [demand_faults], 3
        FAIL_IF ne, "expected exactly three not-present page faults"
        cmp dword [DEMAND_BASE + 0x10], 'PG-0'
        FAIL_IF ne, "the first demand page lost its data"
        cmp dword [FRAME_POOL + 0x10], 'PG-0'
        FAIL_IF ne, "the first demand page is not backed by the first frame of the pool"
        cmp dword [FRAME_POOL + PAGE + 0x20], 'PG-1'
        FAIL_IF ne, "the second demand page is not backed by the second frame of the pool"
        mov eax, [PAGE_TABLE_DEMAND + 0 * 4]
        and eax, PTE_A | PTE_D
        cmp eax, PTE_A | PTE_D
        FAIL_IF ne, "the written demand page is not accessed and dirty"
        mov eax, [PAGE_TABLE_DEMAND + 5 * 4]
        and eax, PTE_A | PTE_D
        cmp eax, PTE_A
        FAIL_IF ne, "the page only read should be accessed but not dirty"
        PRINT "    data landed in frames 0x00100000 and 0x00101000; A and D bits as expected", 10

; ---- 4. CR0.WP: read-only pages bind ring 0 too
        and dword [PAGE_TABLE_DEMAND + 1 * 4], ~PTE_RW
        invlpg [DEMAND_BASE + PAGE]
        mov eax, cr0
        or eax, CR0_WP
        mov cr0, eax
        PRINT "[4] CR0.WP=1, page 0x00C01000 made read-only: a ring-0 store must fault", 10
        mov dword [expect_protection_fault], 1
        mov dword [DEMAND_BASE + PAGE + 0x20], 'PG-W'
        cmp dword [expect_protection_fault], 0
        FAIL_IF ne, "the store to a read-only page did not fault with CR0.WP set"
        cmp dword [FRAME_POOL + PAGE + 0x20], 'PG-W'
        FAIL_IF ne, "the restarted store did not complete"

; ---- 5. unmap + INVLPG
        mov dword [PAGE_TABLE_DEMAND + 0 * 4], 0
        invlpg [DEMAND_BASE]
        PRINT "[5] page 0x00C00000 unmapped and flushed with INVLPG: the next read must fault again", 10
        mov eax, [DEMAND_BASE + 0x10]
        cmp dword [demand_faults], 4
        FAIL_IF ne, "the read after INVLPG did not fault"
        cmp eax, 0
        FAIL_IF ne, "the page mapped again should be a fresh, zeroed frame"
        PRINT "ok", 10
        EXIT 0

; #PF handler. Frame: [esp] error code, [esp+4] EIP, [esp+8] CS, [esp+12] EFLAGS. After PUSHAD the error
; code is at [ebp+32]. Returning without changing EIP restarts the faulting instruction.
page_fault:
        pushad
        mov ebp, esp
        mov ebx, cr2
        PRINT "    #PF at "
        PRINT_HEX ebx, 8
        PRINT " error code "
        PRINT_HEX [ebp + 32], 4
        test dword [ebp + 32], PF_P
        jnz .protection
        mov eax, ebx                            ; not present: only the demand region may fault
        shr eax, 22
        cmp eax, DEMAND_BASE >> 22
        FAIL_IF ne, "#PF (not present) outside the demand region"
        mov edi, [next_frame]
        add dword [next_frame], PAGE
        PRINT " (not present) -> frame "
        PRINT_HEX edi, 8
        PRINT 10
        push edi
        mov ecx, PAGE / 4
        xor eax, eax
        rep stosd
        pop edi
        mov eax, ebx
        shr eax, 12
        and eax, 0x3FF
        or edi, PTE_P | PTE_RW
        mov [PAGE_TABLE_DEMAND + eax * 4], edi
        inc dword [demand_faults]
        jmp .done
.protection:
        PRINT " (protection) -> page made writable", 10
        cmp dword [expect_protection_fault], 1
        FAIL_IF ne, "unexpected protection page fault"
        test dword [ebp + 32], PF_W
        FAIL_IF z, "the protection fault is not marked as a write"
        cmp ebx, DEMAND_BASE + PAGE + 0x20
        FAIL_IF ne, "CR2 does not hold the address of the faulting store"
        mov eax, ebx
        shr eax, 12
        and eax, 0x3FF
        or dword [PAGE_TABLE_DEMAND + eax * 4], PTE_RW
        invlpg [ebx]
        mov dword [expect_protection_fault], 0
.done:
        popad
        add esp, 4                              ; the error code
        iretd

        console_routines 32
        exception_reporter

        align 4
next_frame:             dd FRAME_POOL
demand_faults:          dd 0
expect_protection_fault: dd 0

        gdt_start
gdt_end:

        idt_start
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
