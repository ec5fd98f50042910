; hello - the smallest trip from real mode into 32-bit protected mode.
;
; The machine loads this flat image at 0x7C00 and starts it in real mode at CS:IP = 0000:7C00 (interrupts
; off, A20 on). The program builds a GDT, sets CR0.PE, far-jumps into a 32-bit code segment, prints a line
; through the debug port 0xE9 and ends the run through the exit port 0xF4 with exit code 0.
;
; Self-contained on purpose (no include file) so that it reads as a tutorial:
;     nasm -f bin hello.asm -o hello.bin
;     npx ringside run examples/hello/hello.bin --trace segment-load,mode-change

        org 0x7C00
        bits 16

DEBUG_PORT      equ 0xE9
EXIT_PORT       equ 0xF4

start:
        cli                             ; no interrupts: there is no protected-mode IDT
        xor ax, ax
        mov ds, ax                      ; LGDT reads its operand through DS; make its base 0
        lgdt [gdtr]
        mov eax, cr0
        or eax, 1                       ; CR0.PE
        mov cr0, eax
        ; Still running with the real-mode CS cache. The far jump loads CS from GDT entry 1, a 32-bit code
        ; segment, and flushes the prefetched real-mode instructions (SDM vol. 3A, "Switching to Protected Mode").
        jmp dword CODE_SEL:protected

        bits 32
protected:
        mov ax, DATA_SEL                ; every data segment register gets the flat data descriptor
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, 0x7000

        mov esi, message
.next:
        lodsb
        test al, al
        jz .done
        out DEBUG_PORT, al
        jmp .next
.done:
        mov al, 0
        out EXIT_PORT, al               ; the run ends here with exit code 0
        jmp $                           ; not reached: the machine stops at the OUT (a HLT here would
                                        ; end the run as a success even if the exit port did not work)

message:
        db "Hello from protected mode", 10, 0

; The GDT: a null entry, then flat 4 GiB code and data segments (base 0, limit 0xFFFFF in 4 KiB units).
        align 8
gdt:
        dq 0                            ; entry 0: the null descriptor
CODE_SEL equ $ - gdt
        dw 0xFFFF, 0x0000               ; limit 15..0, base 15..0
        db 0x00, 0x9A, 0xCF, 0x00       ; base 23..16, access (present, DPL 0, code, execute/read),
                                        ; G=1 D=1 + limit 19..16, base 31..24
DATA_SEL equ $ - gdt
        dw 0xFFFF, 0x0000
        db 0x00, 0x92, 0xCF, 0x00       ; access: present, DPL 0, data, read/write
gdt_end:

gdtr:
        dw gdt_end - gdt - 1            ; limit
        dd gdt                          ; linear base
