; cold-code - what boot loaders and kernels do besides loops (issue 13): each pass switches real -> protected ->
; real mode, runs 16-bit and 32-bit code, takes faults (#DE in both modes, #UD, #GP) and software interrupts (INT
; in both modes) through their handlers, calls through a call gate, jumps far, loads segment registers, runs REP
; MOVS/STOS/CMPS, and takes the PIT's hardware interrupt (IRQ 0 through the PIC, in both modes) wherever it falls
; while interrupts are enabled. bench/run.mjs and bench/guests.mjs time it, bare, monitored and under QEMU.
;
; A floppy boot sector: the BIOS loads sector 1 to 0x7C00, which reads the rest with INT 13h. Every count is
; checked at the end against PASSES, and the two arithmetic chains against a model computed outside the guest
; (the EXPECT_ values below, from the Python model in the comment at the end), so a wrong CPU fails the benchmark
; instead of timing it. The IRQ 0 count depends on time and is only required to be non-zero.
;
;     nasm -f bin -i ../examples/include/ cold-code.asm -o cold-code.bin

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

PASSES          equ 20000
SECTORS         equ 7               ; sectors after the boot sector (the image is padded to 8 sectors)
MAGIC           equ 0x444C4F43      ; 'COLD' at the start of the second sector

; Data (all below the image, above the BIOS data area).
CNT_GATE        equ 0x1000
CNT_PM_DE       equ 0x1004
CNT_UD          equ 0x1008
CNT_GP          equ 0x100C
CNT_PM_INT      equ 0x1010
CNT_RM_INT      equ 0x1014
CNT_RM_DE       equ 0x1018
CNT_FAR_JMP     equ 0x101C
CNT_IRQ         equ 0x1020           ; time-dependent: after the counts equal to PASSES
CHAIN16         equ 0x1030          ; SI, DI of the 16-bit chain
CHAIN32         equ 0x1040          ; EAX, EDX of the 32-bit chain
SRC             equ 0x2000
DST             equ 0x3000
; Model of the two chains after PASSES passes (see the end of this file).
EXPECT_SI       equ 0x8100
EXPECT_DI       equ 0x30D6
EXPECT_EAX      equ 0x00A12200
EXPECT_EDX      equ 0x6B72F8B0

start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, STACK_TOP
        cld
        mov ax, 0x0200 | SECTORS    ; INT 13h AH=02: read AL sectors (DL: the boot drive, as the BIOS left it)
        mov cx, 0x0002              ; cylinder 0, sector 2
        xor dh, dh                  ; head 0
        mov bx, 0x7E00
        int 0x13
        jc .disk_failed
        cmp dword [second], MAGIC
        je main
.disk_failed:
        mov al, 2
        out EXIT_PORT, al
.stop:  jmp .stop

        times 510 - ($ - $$) db 0
        dw 0xAA55

second: dd MAGIC

main:
        ; Counters and chains start at zero.
        mov di, CNT_GATE
        xor eax, eax
        mov cx, (CHAIN32 + 8 - CNT_GATE) / 4
        rep stosd
        ; Source data for the string copies: bytes 0, 1, 2, ...
        mov di, SRC
        xor al, al
        mov cx, 256
.fill:  stosb
        inc al
        loop .fill
        ; Real-mode vectors: #DE, IRQ 0 (the PIC is moved to 0x20 below), INT 60h.
        mov word [0 * 4], rm_de
        mov word [0 * 4 + 2], 0
        mov word [0x20 * 4], rm_irq0
        mov word [0x20 * 4 + 2], 0
        mov word [0x60 * 4], rm_int
        mov word [0x60 * 4 + 2], 0
        ; PIC: master at vectors 20h-27h, only IRQ 0 unmasked; slave all masked.
        mov al, 0x11
        out 0x20, al
        out 0xA0, al
        mov al, 0x20
        out 0x21, al
        mov al, 0x28
        out 0xA1, al
        mov al, 4
        out 0x21, al
        mov al, 2
        out 0xA1, al
        mov al, 1
        out 0x21, al
        out 0xA1, al
        mov al, 0xFE
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        ; PIT channel 0, mode 2, divisor 1193 (about 1 kHz).
        mov al, 0x34
        out 0x43, al
        mov ax, 1193
        out 0x40, al
        mov al, ah
        out 0x40, al
        lgdt [gdtr]
        mov ebp, PASSES

; ---------------------------------------------------------------- real mode
real_pass:
        ; 16-bit code, interrupts enabled: the chain SI, DI.
        mov si, [CHAIN16]
        mov di, [CHAIN16 + 2]
        mov cx, 16
        sti
.chain: add si, cx
        xor di, si
        rol di, 3
        loop .chain
        cli
        mov [CHAIN16], si
        mov [CHAIN16 + 2], di
        ; A software interrupt and a divide error in real mode.
        int 0x60
        xor dx, dx
        mov ax, 1
        xor cx, cx
        div cx                      ; #DE: the handler resumes after it
        ; REP string instructions with 16-bit addresses.
        mov si, SRC
        mov di, DST
        mov cx, 64
        rep movsw
        mov di, DST + 0x100
        mov al, 0x5A
        mov cx, 100
        rep stosb
        ; To protected mode (SDM 3A §9.9.1): IDT, CR0.PE, a far jump to 32-bit code.
        lidt [pm_idtr]
        mov eax, cr0
        or al, CR0_PE
        mov cr0, eax
        jmp dword SEL_CODE:pm_pass

rm_int:
        add dword [CNT_RM_INT], 1
        iret

rm_de:
        push bp
        mov bp, sp
        add word [bp + 2], 2        ; past DIV CX (2 bytes): a real-mode #DE returns to the DIV
        pop bp
        add dword [CNT_RM_DE], 1
        iret

rm_irq0:
        push ax
        add dword [CNT_IRQ], 1
        mov al, 0x20
        out 0x20, al                ; EOI
        pop ax
        iret

; ---------------------------------------------------------------- protected mode
        bits 32
pm_pass:
        mov ax, SEL_FLAT
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        ; A far call through a call gate, and a far jump.
        call SEL_GATE:0
        jmp SEL_CODE:.jumped
.jumped:
        add dword [CNT_FAR_JMP], 1
        ; A software interrupt, then three faults: #DE, #UD, #GP (a selector past the GDT limit).
        int 0x40
        xor edx, edx
        mov eax, 1
        xor ecx, ecx
        div ecx
        ud2
        mov ax, 0x7F8
        mov fs, ax
        ; REP string instructions with 32-bit addresses; the copy is compared.
        mov esi, SRC
        mov edi, DST + 0x200
        mov ecx, 64
        rep movsd
        mov esi, SRC
        mov edi, DST + 0x200
        mov ecx, 64
        repe cmpsd
        jne .copy_differs
        ; 32-bit code, interrupts enabled: the chain EAX, EDX.
        mov eax, [CHAIN32]
        mov edx, [CHAIN32 + 4]
        mov ecx, 32
        sti
.chain: add eax, ecx
        xor edx, eax
        rol edx, 5
        loop .chain
        cli
        mov [CHAIN32], eax
        mov [CHAIN32 + 4], edx
        ; Back to real mode (SDM 3A §9.9.2): 16-bit code and data segments, CR0.PE off, a far jump.
        jmp SEL_CODE16:pm16
.copy_differs:
        mov al, 3
        out EXIT_PORT, al
.stop:  jmp .stop

gate_target:
        add dword [CNT_GATE], 1
        retf

pm_int:
        add dword [CNT_PM_INT], 1
        iretd

pm_de:
        add dword [esp], 2          ; past DIV ECX
        add dword [CNT_PM_DE], 1
        iretd

pm_ud:
        add dword [esp], 2          ; past UD2
        add dword [CNT_UD], 1
        iretd

pm_gp:
        add esp, 4                  ; the error code
        add dword [esp], 2          ; past MOV FS, AX
        add dword [CNT_GP], 1
        iretd

pm_irq0:
        push eax
        add dword [CNT_IRQ], 1
        mov al, 0x20
        out 0x20, al
        pop eax
        iretd

        bits 16
pm16:
        mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov eax, cr0
        and al, ~CR0_PE
        mov cr0, eax
        jmp 0:rm_back
rm_back:
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        lidt [rm_idtr]
        dec ebp
        jnz real_pass

; ---------------------------------------------------------------- checks
        mov ebx, CNT_GATE
.count: cmp ebx, CNT_FAR_JMP + 4
        je .counted
        cmp dword [bx], PASSES
        FAIL_IF ne, "an event count differs from PASSES"
        add ebx, 4
        jmp .count
.counted:
        cmp dword [CNT_IRQ], 0
        FAIL_IF e, "no timer interrupt was taken"
        cmp word [CHAIN16], EXPECT_SI
        FAIL_IF ne, "the 16-bit chain differs from the model"
        cmp word [CHAIN16 + 2], EXPECT_DI
        FAIL_IF ne, "the 16-bit chain differs from the model"
        cmp dword [CHAIN32], EXPECT_EAX
        FAIL_IF ne, "the 32-bit chain differs from the model"
        cmp dword [CHAIN32 + 4], EXPECT_EDX
        FAIL_IF ne, "the 32-bit chain differs from the model"
        EXIT 0

        console_routines 16

        gdt_start
SEL_CODE16 equ $ - gdt
        descriptor 0, 0xFFFF, ACC_CODE, 0
SEL_DATA16 equ $ - gdt
        descriptor 0, 0xFFFF, ACC_DATA, 0
SEL_GATE equ $ - gdt
        gate gate_target, SEL_CODE, GATE_CALL32
gdt_end:

        align 8
idt:
        gate_at 0x00, pm_de, SEL_CODE, GATE_INT32
        gate_at 0x06, pm_ud, SEL_CODE, GATE_INT32
        gate_at 0x0D, pm_gp, SEL_CODE, GATE_INT32
        gate_at 0x20, pm_irq0, SEL_CODE, GATE_INT32
        gate_at 0x40, pm_int, SEL_CODE, GATE_INT32
idt_end:

gdtr:     pseudo_descriptor gdt, gdt_end
pm_idtr:  pseudo_descriptor idt, idt_end
rm_idtr:  dw 0x3FF
          dd 0

        times (SECTORS + 1) * 512 - ($ - $$) db 0

; The model of the chains (Python):
;   si = di = 0
;   eax = edx = 0
;   for _ in range(PASSES):
;       for cx in range(16, 0, -1):
;           si = (si + cx) & 0xFFFF; di ^= si; di = ((di << 3) | (di >> 13)) & 0xFFFF
;       for ecx in range(32, 0, -1):
;           eax = (eax + ecx) & 0xFFFFFFFF; edx ^= eax; edx = ((edx << 5) | (edx >> 27)) & 0xFFFFFFFF
