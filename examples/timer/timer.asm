; timer - PIT interrupts counted through the 8259 PIC, output on COM1 and port 0xE9.
;
;   1. the master/slave 8259A pair is initialised (ICW1..ICW4) with IRQ0..7 at vectors 0x20..0x27 and
;      IRQ8..15 at 0x28..0x2F, all lines masked except IRQ0
;   2. PIT channel 0: mode 2 (rate generator), binary, divisor 11932 (about 100 Hz from 1.193182 MHz)
;   3. COM1 (16550A at 0x3F8): 115200 baud 8N1, FIFOs on; every byte is written when LSR bit 5 (THR empty) is
;      set, and copied to port 0xE9
;   4. STI, then HLT until TICKS interrupts have arrived; each one checks that IRQ0 is in service (ISR read
;      through OCW3), prints a line and sends a non-specific EOI
;   5. CLI; the IMR reads back as written, and the PIT's latched count lies within the divisor
;
;     nasm -f bin -i ../include/ timer.asm -o timer.bin
;     npx ringside run examples/timer/timer.bin --trace port-io

%define CONSOLE_COM1
%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

TICKS           equ 10
PIC1_COMMAND    equ 0x20
PIC1_DATA       equ 0x21
PIC2_COMMAND    equ 0xA0
PIC2_DATA       equ 0xA1
ICW1_INIT_ICW4  equ 0x11        ; edge triggered, cascade, ICW4 follows
ICW4_8086       equ 0x01
OCW2_EOI        equ 0x20        ; non-specific end of interrupt
OCW3_READ_ISR   equ 0x0B
IRQ_BASE_MASTER equ 0x20
IRQ_BASE_SLAVE  equ 0x28
IMR_ONLY_IRQ0   equ 0xFE
PIT_CHANNEL0    equ 0x40
PIT_COMMAND     equ 0x43
PIT_CH0_MODE2   equ 0x34        ; channel 0, low byte then high byte, mode 2, binary
PIT_LATCH_CH0   equ 0x00        ; counter latch command for channel 0
PIT_DIVISOR     equ 11932

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        call init_com1
        PRINT "timer: PIT channel 0 on IRQ0 through the 8259 PIC, output on COM1 and port 0xE9", 10

; ---- 1. PIC
        mov al, ICW1_INIT_ICW4
        out PIC1_COMMAND, al
        out PIC2_COMMAND, al
        mov al, IRQ_BASE_MASTER                 ; ICW2: vector base
        out PIC1_DATA, al
        mov al, IRQ_BASE_SLAVE
        out PIC2_DATA, al
        mov al, 1 << 2                          ; ICW3: the slave sits on IRQ2 of the master
        out PIC1_DATA, al
        mov al, 2                               ; ICW3: the slave's cascade identity
        out PIC2_DATA, al
        mov al, ICW4_8086
        out PIC1_DATA, al
        out PIC2_DATA, al
        mov al, IMR_ONLY_IRQ0                   ; OCW1: masks
        out PIC1_DATA, al
        mov al, 0xFF
        out PIC2_DATA, al
        PRINT "[1] PIC: IRQ0..7 -> vectors 0x20..0x27, IRQ8..15 -> 0x28..0x2F, only IRQ0 unmasked", 10

; ---- 2. PIT
        mov al, PIT_CH0_MODE2
        out PIT_COMMAND, al
        mov al, PIT_DIVISOR & 0xFF
        out PIT_CHANNEL0, al
        mov al, PIT_DIVISOR >> 8
        out PIT_CHANNEL0, al
        PRINT "[2] PIT channel 0: mode 2, divisor 11932", 10

; ---- 4. count ticks
        PRINT "[3] STI; HLT until 10 timer interrupts have arrived", 10
        sti
.wait:
        hlt                                     ; wakes on the next interrupt
        cmp dword [ticks], TICKS
        jb .wait
        cli
        cmp dword [ticks], TICKS
        FAIL_IF ne, "more ticks than waited for: an interrupt arrived after CLI"

; ---- 5. read back
        in al, PIC1_DATA
        cmp al, IMR_ONLY_IRQ0
        FAIL_IF ne, "the master PIC's IMR does not read back as written"
        mov al, PIT_LATCH_CH0
        out PIT_COMMAND, al
        in al, PIT_CHANNEL0
        mov ah, al
        in al, PIT_CHANNEL0
        xchg al, ah                             ; AX = latched count (low byte was read first)
        cmp ax, PIT_DIVISOR
        FAIL_IF a, "the PIT's count is above its divisor"
        test ax, ax
        FAIL_IF z, "the PIT's count in mode 2 is never 0"
        PRINT "[4] CLI; IMR reads back 0xFE, PIT channel 0's latched count lies within 1..11932", 10
        PRINT "ok", 10
        EXIT 0

; IRQ0: count, check the PIC, say so, EOI.
timer_interrupt:
        pushad
        mov al, OCW3_READ_ISR
        out PIC1_COMMAND, al
        in al, PIC1_COMMAND
        test al, 1
        FAIL_IF z, "IRQ0 is not in service (ISR bit 0) inside its handler"
        inc dword [ticks]
        PRINT "    tick "
        PRINT_HEX [ticks], 2
        PRINT 10
        mov al, OCW2_EOI
        out PIC1_COMMAND, al
        popad
        iretd

init_com1:
        mov dx, COM1_LCR
        mov al, 0x80                            ; DLAB = 1: the divisor latch
        out dx, al
        mov dx, COM1_DLL
        mov al, 1                               ; 115200 baud
        out dx, al
        mov dx, COM1_IER                        ; divisor high byte while DLAB = 1
        xor al, al
        out dx, al
        mov dx, COM1_LCR
        mov al, 0x03                            ; 8 data bits, no parity, 1 stop bit, DLAB = 0
        out dx, al
        mov dx, COM1_IER
        xor al, al                              ; no UART interrupts
        out dx, al
        mov dx, COM1_FCR
        mov al, 0xC7                            ; FIFOs on and cleared
        out dx, al
        mov dx, COM1_MCR
        mov al, 0x03                            ; DTR, RTS
        out dx, al
        ret

        console_routines 32
        exception_reporter

        align 4
ticks:  dd 0

        gdt_start
gdt_end:

        idt_start
        gate_at IRQ_BASE_MASTER, timer_interrupt, SEL_CODE, GATE_INT32
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
