; The fixed part of the lockstep harness's random protected-mode programs (engine/monitor/random-program.ts).
;
; Loaded at 0x10000 and entered in flat 32-bit protected mode (the Multiboot start state). It installs its own
; GDT, IDT, TSS and LDT, then jumps to the generated body at BODY: 16-byte slots, one random instruction (or short
; sequence) each, NOP-padded. Every exception handler records the vector and error code and resumes at the next
; slot, so a program keeps going through the faults it provokes; a fault outside the body stops it with HLT.
; INT 0x40 (gate DPL 3) brings ring-3 code back to ring 0 at the next slot.
; The 8259 pair is initialised with IRQ 0-7 at vectors 0x50-0x57 and IRQ 8-15 at 0x58-0x5F, every line masked; the
; body's device slots (random/device-slots.ts) unmask lines and program the PIT, RTC, UART and keyboard controller.
; Each IRQ handler counts the interrupt, reads the RTC's register C for IRQ 8 (so its periodic interrupt comes
; again), sends the EOIs and returns to the interrupted instruction, in whichever ring it ran.
;
;     nasm -f bin runtime.asm -o runtime.bin      (random-runtime.ts embeds the result; a test checks it)

        bits 32
        org 0x10000

BODY            equ 0x12000
BODY_LIMIT      equ 0x30000             ; bodies are shorter than this
STACK0          equ 0x90000
SEL_CODE0       equ 0x08
SEL_DATA0       equ 0x10
SEL_TSS         equ 0x28
SEL_LDT         equ 0x30
IRQ_BASE        equ 0x50

start:
        lgdt [gdtr_a]
        lidt [idtr]
        mov al, 0x11                    ; ICW1: edge triggered, cascade, ICW4 follows
        out 0x20, al
        out 0xA0, al
        mov al, IRQ_BASE                ; ICW2: vector bases
        out 0x21, al
        mov al, IRQ_BASE + 8
        out 0xA1, al
        mov al, 0x04                    ; ICW3: the slave on IRQ 2
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01                    ; ICW4: 8086 mode
        out 0x21, al
        out 0xA1, al
        mov al, 0xFF                    ; OCW1: every line masked
        out 0x21, al
        out 0xA1, al
        jmp SEL_CODE0:.reload
.reload:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, STACK0
        mov ax, SEL_TSS
        ltr ax
        mov ax, SEL_LDT
        lldt ax
        xor eax, eax
        xor ebx, ebx
        xor ecx, ecx
        xor edx, edx
        xor esi, esi
        xor edi, edi
        xor ebp, ebp
        jmp BODY

; ---- exception stubs: [error code][vector] on the stack, then the common handler
%macro STUB 1
stub_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17
        push dword %1
%else
        push dword 0
        push dword %1
%endif
        jmp handler
%endmacro
%assign v 0
%rep 32
        STUB v
%assign v v+1
%endrep

handler:                                ; [vector][error][eip][cs][eflags]([esp][ss])
        inc dword [ss:fault_count]
        push eax
        mov eax, [esp + 4]
        mov [ss:last_vector], eax
        mov eax, [esp + 8]
        mov [ss:last_error], eax
        mov eax, [esp + 12]
        call next_slot
        mov [esp + 12], eax
        pop eax
        add esp, 8
        iretd

; EAX = an EIP inside the body → EAX = the start of the next slot; anywhere else: stop here.
next_slot:
        sub eax, BODY
        cmp eax, BODY_LIMIT - BODY
        jae stop
        and eax, ~15
        add eax, BODY + 16
        ret

stop:
        cli
        hlt
        jmp stop

int40:                                  ; [eip][cs][eflags]([esp][ss])
        push eax
        mov eax, [esp + 4]
        call next_slot
        test byte [esp + 8], 3
        jz .same_ring
        mov [ss:int40_target], eax      ; from ring 3: drop the frame, go on at ring 0
        pop eax
        add esp, 20
        jmp [ss:int40_target]
.same_ring:
        mov [esp + 4], eax
        pop eax
        iretd

irq_master:                             ; IRQ 0-7: count, non-specific EOI
        push eax
        inc dword [ss:irq_count]
        mov al, 0x20
        out 0x20, al
        pop eax
        iretd

irq_slave:                              ; IRQ 8-15: count, RTC register C read, EOI to both
        push eax
        inc dword [ss:irq_count]
        mov al, 0x0C
        out 0x70, al
        in al, 0x71
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop eax
        iretd

        times 0x380 - ($ - $$) db 0             ; fixed offsets, used by random-program.ts
fault_count:    dd 0
last_vector:    dd 0
last_error:     dd 0
int40_target:   dd 0
scratch:        times 16 db 0           ; SGDT/SIDT stores land here
irq_count:      dd 0

; ---- descriptor tables
%macro DESC 4 ; base, limit, access, flags
        dw ((%2) & 0xFFFF), ((%1) & 0xFFFF)
        db (((%1) >> 16) & 0xFF), (%3), ((((%2) >> 16) & 0x0F) | ((%4) << 4)), (((%1) >> 24) & 0xFF)
%endmacro

        times 0x400 - ($ - $$) db 0
gdt_a:
        dq 0                                            ; 0x00
        DESC 0, 0xFFFFF, 0x9B, 0xC                     ; 0x08 ring-0 code, flat
        DESC 0, 0xFFFFF, 0x93, 0xC                     ; 0x10 ring-0 data, flat
        DESC 0, 0xFFFFF, 0xFB, 0xC                     ; 0x18 ring-3 code, flat
        DESC 0, 0xFFFFF, 0xF3, 0xC                     ; 0x20 ring-3 data, flat
        DESC (tss - $$ + 0x10000), tss_end - tss - 1, 0x89, 0x0         ; 0x28 TSS
        DESC (ldt - $$ + 0x10000), ldt_end - ldt - 1, 0x82, 0x0         ; 0x30 LDT
        DESC 0, 0xFFFFF, 0x9F, 0xC                     ; 0x38 conforming ring-0 code, flat
gdt_a_scratch:                                          ; 0x40..0x78: rewritten by the generator and the body
        times 8 dq 0
gdt_a_end:

gdt_b:                                                  ; the second table of LGDT: same core, its own scratch,
        times 8 dq 0                                    ; a smaller limit (filled by the generator)
gdt_b_scratch:
        times 4 dq 0
gdt_b_end:

ldt:
        dq 0
        DESC 0x40000, 0xFFFF, 0xF3, 0x4                ; 0x0F ring-3 data
        DESC 0x50000, 0x0FFF, 0x93, 0x4                ; 0x14 ring-0 data
        DESC 0, 0xFFFFF, 0xFB, 0xC                     ; 0x1F ring-3 code
ldt_end:

        align 16
idt:
%assign v 0
%rep 32
        dw (stub_ %+ v - $$ + 0x10000) & 0xFFFF, SEL_CODE0
        db 0, 0x8E
        dw (stub_ %+ v - $$ + 0x10000) >> 16
%assign v v+1
%endrep
        times (0x40 - 32) dq 0
        dw (int40 - $$ + 0x10000) & 0xFFFF, SEL_CODE0   ; 0x40: DPL 3 interrupt gate (ring 3 → ring 0)
        db 0, 0xEE
        dw (int40 - $$ + 0x10000) >> 16
        dw (int40 - $$ + 0x10000) & 0xFFFF, SEL_CODE0   ; 0x41: DPL 0 (INT 0x41 from ring 3 is a #GP)
        db 0, 0x8E
        dw (int40 - $$ + 0x10000) >> 16
        times (IRQ_BASE - 0x42) dq 0
%rep 8
        dw (irq_master - $$ + 0x10000) & 0xFFFF, SEL_CODE0      ; 0x50-0x57: IRQ 0-7, DPL 0 interrupt gates
        db 0, 0x8E
        dw (irq_master - $$ + 0x10000) >> 16
%endrep
%rep 8
        dw (irq_slave - $$ + 0x10000) & 0xFFFF, SEL_CODE0       ; 0x58-0x5F: IRQ 8-15
        db 0, 0x8E
        dw (irq_slave - $$ + 0x10000) >> 16
%endrep
idt_end:

        align 16
tss:
        dd 0, STACK0, SEL_DATA0
        times 23 dd 0
        dw 0, 0x68
tss_end:

gdtr_a: dw gdt_a_end - gdt_a - 1
        dd gdt_a
gdtr_b: dw gdt_b_end - gdt_b - 1
        dd gdt_b
idtr:   dw idt_end - idt - 1
        dd idt
