; rtc-periodic: the RTC's periodic interrupt (IRQ 8) through the slave 8259A and the cascade on IRQ 2.
; Sets the periodic rate to 2 Hz (register A rate 15) and PIE in register B, HLTs until six interrupts have come
; (each acknowledged by reading register C, then EOI to the slave and the master), reads the seconds register
; (BCD) and exits through port 0xF4 with it: three seconds of virtual time after a start at hh:mm:00.
; Build: nasm -f bin rtc-periodic.asm -o rtc-periodic.bin  (a flat binary loaded at 0x7C00, started in real mode)
        bits 16
        org 0x7C00

RTC_VECTOR      equ 0x28                ; IRQ 8 = slave IR0
CMOS_INDEX      equ 0x70
CMOS_DATA       equ 0x71
NMI_OFF         equ 0x80

start:
        cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        mov word [RTC_VECTOR * 4], rtc_interrupt
        mov word [RTC_VECTOR * 4 + 2], 0

        mov al, 0x11
        out 0x20, al
        out 0xA0, al
        mov al, 0x20
        out 0x21, al
        mov al, RTC_VECTOR
        out 0xA1, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01
        out 0x21, al
        out 0xA1, al
        mov al, 0xFB                    ; master: only the cascade
        out 0x21, al
        mov al, 0xFE                    ; slave: only IRQ 8
        out 0xA1, al

        mov al, NMI_OFF | 0x0A          ; register A: divider running, rate 15 = 2 Hz
        out CMOS_INDEX, al
        mov al, 0x2F
        out CMOS_DATA, al
        mov al, NMI_OFF | 0x0B          ; register B: set PIE
        out CMOS_INDEX, al
        in al, CMOS_DATA
        or al, 0x40
        mov ah, al
        mov al, NMI_OFF | 0x0B
        out CMOS_INDEX, al
        mov al, ah
        out CMOS_DATA, al

        sti
.wait:  hlt
        cmp word [ticks], 6
        jb .wait
        cli
        mov al, 0x00                    ; seconds
        out CMOS_INDEX, al
        in al, CMOS_DATA
        out 0xF4, al
        jmp $

rtc_interrupt:
        push ax
        mov al, 0x0C                    ; reading register C acknowledges the RTC
        out CMOS_INDEX, al
        in al, CMOS_DATA
        test al, 0x40                   ; PF
        jz .eoi
        inc word [ticks]
.eoi:   mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop ax
        iret

ticks:  dw 0
