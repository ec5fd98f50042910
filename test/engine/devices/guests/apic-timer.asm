; apic-timer: the local APIC timer and the PIT routed through the I/O APIC, as an SMP-aware kernel sets them up.
; Loads a flat GDT and an IDT, masks both 8259s, switches the IMCR to symmetric I/O mode, software-enables the
; local APIC (SVR), runs the APIC timer periodic (vector 40h, divide by 16, initial count 2000) until five
; interrupts have come, masks it, then routes ISA IRQ 0 (I/O APIC input 2, as the MP table says) to vector 41h
; and starts PIT channel 0 in mode 2, waiting for three interrupts. Each timer interrupt prints 'A', each PIT
; interrupt 'P' on port E9h; every handler ends with an EOI to the local APIC. Exits through port F4h with
; 16 × APIC ticks + PIT ticks (83).
; Build: nasm -f bin apic-timer.asm -o apic-timer.bin  (flat binary at 0x7C00, started with --mode protected)
        bits 32
        org 0x7C00

LAPIC           equ 0xFEE00000
IOAPIC          equ 0xFEC00000
APIC_SVR        equ 0x0F0
APIC_EOI        equ 0x0B0
APIC_LVT_TIMER  equ 0x320
APIC_TIMER_INIT equ 0x380
APIC_TIMER_DIV  equ 0x3E0
TIMER_VECTOR    equ 0x40
PIT_VECTOR      equ 0x41

start:
        mov esp, 0x9000
        lgdt [gdtr]
        jmp 0x08:.reload
.reload:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        ; IDT: interrupt gates for the two vectors and the spurious vector FFh
        mov eax, timer_handler
        mov ebx, TIMER_VECTOR
        call set_gate
        mov eax, pit_handler
        mov ebx, PIT_VECTOR
        call set_gate
        mov eax, spurious_handler
        mov ebx, 0xFF
        call set_gate
        lidt [idtr]
        ; the 8259s masked; the IMCR to symmetric I/O mode
        mov al, 0xFF
        out 0x21, al
        out 0xA1, al
        mov al, 0x70
        out 0x22, al
        mov al, 0x01
        out 0x23, al
        ; local APIC on, spurious vector FFh
        mov dword [LAPIC + APIC_SVR], 0x1FF
        mov dword [LAPIC + APIC_TIMER_DIV], 0x3             ; divide by 16
        mov dword [LAPIC + APIC_LVT_TIMER], 0x20000 | TIMER_VECTOR ; periodic
        mov dword [LAPIC + APIC_TIMER_INIT], 2000
        sti
.wait_timer:
        hlt
        cmp dword [apic_ticks], 5
        jb .wait_timer
        mov dword [LAPIC + APIC_LVT_TIMER], 0x10000 | TIMER_VECTOR ; masked
        ; I/O APIC input 2 (ISA IRQ 0): vector 41h, fixed, physical destination 0, edge, unmasked
        mov dword [IOAPIC], 0x10 + 2 * 2 + 1
        mov dword [IOAPIC + 0x10], 0
        mov dword [IOAPIC], 0x10 + 2 * 2
        mov dword [IOAPIC + 0x10], PIT_VECTOR
        ; PIT channel 0, mode 2, divisor 1000
        mov al, 0x34
        out 0x43, al
        mov ax, 1000
        out 0x40, al
        mov al, ah
        out 0x40, al
.wait_pit:
        hlt
        cmp dword [pit_ticks], 3
        jb .wait_pit
        cli
        mov eax, [apic_ticks]
        shl eax, 4
        add eax, [pit_ticks]
        out 0xF4, al
        hlt

; EAX = handler, EBX = vector
set_gate:
        lea edi, [idt + ebx * 8]
        mov [edi], ax
        mov word [edi + 2], 0x08
        mov word [edi + 4], 0x8E00
        shr eax, 16
        mov [edi + 6], ax
        ret

timer_handler:
        push eax
        inc dword [apic_ticks]
        mov al, 'A'
        out 0xE9, al
        mov dword [LAPIC + APIC_EOI], 0
        pop eax
        iretd

pit_handler:
        push eax
        inc dword [pit_ticks]
        mov al, 'P'
        out 0xE9, al
        mov dword [LAPIC + APIC_EOI], 0
        pop eax
        iretd

spurious_handler:
        iretd                           ; no EOI for the spurious vector (SDM 3A §11.9)

apic_ticks      dd 0
pit_ticks       dd 0

        align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF
        dq 0x00CF92000000FFFF
gdtr:   dw 3 * 8 - 1
        dd gdt
idtr:   dw 256 * 8 - 1
        dd idt
        align 8
idt:    times 256 dq 0
