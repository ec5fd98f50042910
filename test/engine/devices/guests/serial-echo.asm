; serial-echo: echoes host bytes arriving on COM1 back to COM1 and to port 0xE9, interrupt driven.
; The 8259A pair is programmed as a PC OS does (IRQ 0-7 at 20h-27h, IRQ 8-15 at 28h-2Fh), only IRQ 4 unmasked;
; the 16550A runs at 115200 baud 8N1 with the received-data interrupt enabled and OUT2 set (the PC's IRQ gate).
; The main loop HLTs until the handler has seen a line feed, then exits through port 0xF4 with the byte count.
; Build: nasm -f bin serial-echo.asm -o serial-echo.bin  (a flat binary loaded at 0x7C00, started in real mode)
        bits 16
        org 0x7C00

COM1            equ 0x3F8
COM1_IRQ_VECTOR equ 0x24

start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        mov word [COM1_IRQ_VECTOR * 4], com1_interrupt
        mov word [COM1_IRQ_VECTOR * 4 + 2], 0

        mov al, 0x11                    ; ICW1: edge triggered, cascade, ICW4
        out 0x20, al
        out 0xA0, al
        mov al, 0x20                    ; ICW2: vector bases
        out 0x21, al
        mov al, 0x28
        out 0xA1, al
        mov al, 0x04                    ; ICW3: slave on IR2
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01                    ; ICW4: 8086 mode
        out 0x21, al
        out 0xA1, al
        mov al, 0xEF                    ; only IRQ 4
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al

        mov dx, COM1 + 3
        mov al, 0x80                    ; DLAB
        out dx, al
        mov dx, COM1
        mov al, 1                       ; divisor 1: 115200 baud
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 0x03                    ; 8N1
        out dx, al
        mov dx, COM1 + 1
        mov al, 0x01                    ; received data available interrupt
        out dx, al
        mov dx, COM1 + 4
        mov al, 0x0B                    ; DTR, RTS, OUT2
        out dx, al

        sti
.wait:  hlt
        cmp byte [done], 0
        je .wait
        cli
        mov al, [count]
        out 0xF4, al
        jmp $

com1_interrupt:
        push ax
        push dx
        mov dx, COM1
        in al, dx                       ; RBR
        out dx, al                      ; THR: echo
        out 0xE9, al
        inc byte [count]
        cmp al, 10
        jne .eoi
        mov byte [done], 1
.eoi:   mov al, 0x20                    ; non-specific EOI
        out 0x20, al
        pop dx
        pop ax
        iret

count:  db 0
done:   db 0
