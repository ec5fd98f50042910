; pit-delay - a delay loop calibrated on PIT channel 2, polled through port 0x61, as boot loaders do it.
;
; GRUB 2 (its TSC calibration), memtest86+ and Linux (pit_calibrate_tsc) time the CPU the same way: gate
; channel 2 off, program it in mode 0 (interrupt on terminal count) with a count, gate it on through port 0x61
; bit 0, and poll port 0x61 until bit 5 (channel 2's OUT) goes high, counting the polls and reading the
; time-stamp counter before and after. No interrupt is involved: what the guest sees of time is the value of
; every IN from port 0x61, so a machine that gets one of those reads one instruction early or late prints other
; numbers.
;
;   1. speaker data off, channel 2 gated off; count 11932 (10 ms): polls and TSC ticks until OUT is high
;   2. counts 1..16 PIT clocks one after the other: the polls each took (the loop is 4 instructions, a PIT clock
;      is not a multiple of it on every machine, so the reads fall on every phase of the clock)
;   3. a delay loop calibrated from step 1 (loops per 10 ms = polls), run for 5 ms, measured with channel 2's
;      latched count: it must have taken between 1 and 10 ms
;
;     nasm -f bin -i ../include/ pit-delay.asm -o pit-delay.bin
;     npx ringside run examples/pit-delay/pit-delay.bin [--monitor]

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

SYSTEM_PORT_B   equ 0x61
PORTB_GATE2     equ 0x01        ; bit 0: channel 2 gate
PORTB_SPEAKER   equ 0x02        ; bit 1: speaker data
PORTB_OUT2      equ 0x20        ; bit 5: channel 2 OUT (read only)
PIT_CHANNEL2    equ 0x42
PIT_COMMAND     equ 0x43
PIT_CH2_MODE0   equ 0xB0        ; channel 2, low byte then high byte, mode 0, binary
PIT_LATCH_CH2   equ 0x80        ; counter latch command for channel 2
TEN_MS          equ 11932       ; PIT clocks in 10 ms (1.193182 MHz)
SHORT_COUNTS    equ 16

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        PRINT "pit-delay: a delay loop calibrated on PIT channel 2 through port 0x61", 10

; ---- 1. 10 ms
        mov eax, TEN_MS
        call measure
        mov [polls_10ms], eax
        PRINT "[1] 10 ms on channel 2: polls "
        PRINT_HEX eax, 8
        PRINT ", TSC ticks "
        PRINT_HEX ebx, 8
        PRINT 10
        test eax, eax
        FAIL_IF z, "OUT was high before the first poll"
        test ebx, ebx
        FAIL_IF z, "the time-stamp counter did not move"

; ---- 2. short counts
        PRINT "[2] polls for 1..16 PIT clocks:"
        mov dword [count], 1
.short:
        mov eax, [count]
        call measure
        PRINT " "
        PRINT_HEX eax, 2
        cmp eax, [last_polls]
        FAIL_IF b, "a longer count took fewer polls"
        mov [last_polls], eax
        inc dword [count]
        cmp dword [count], SHORT_COUNTS
        jbe .short
        PRINT 10

; ---- 3. the calibrated delay: polls_10ms / 2 loops of the poll loop's length, measured on channel 2
        xor eax, eax
        call arm_channel2                       ; a full 65536-clock count running while the delay runs
        mov ecx, [polls_10ms]
        shr ecx, 1
.delay:                                         ; the same four instructions per loop as a poll
        in al, SYSTEM_PORT_B
        test al, 0
        dec ecx
        jnz .delay
        mov al, PIT_LATCH_CH2
        out PIT_COMMAND, al
        in al, PIT_CHANNEL2
        mov ah, al
        in al, PIT_CHANNEL2
        xchg al, ah                             ; AX = the latched count (low byte first)
        movzx ebx, ax
        mov eax, 0x10000
        sub eax, ebx                            ; PIT clocks the delay took
        PRINT "[3] a 5 ms delay from that calibration took "
        PRINT_HEX eax, 4
        PRINT " PIT clocks", 10
        cmp eax, TEN_MS / 10
        FAIL_IF b, "the delay took less than 1 ms"
        cmp eax, TEN_MS
        FAIL_IF a, "the delay took more than 10 ms"
        PRINT "ok", 10
        EXIT 0

; measure: EAX = count of PIT clocks. Arms channel 2 with it and polls port 0x61 until OUT is high.
; Returns EAX = polls, EBX = TSC ticks (low 32 bits).
measure:
        push ecx
        push edx
        call arm_channel2
        rdtsc
        mov ebx, eax
        xor ecx, ecx
.poll:
        in al, SYSTEM_PORT_B
        inc ecx
        test al, PORTB_OUT2
        jz .poll
        rdtsc
        sub eax, ebx
        mov ebx, eax
        mov eax, ecx
        pop edx
        pop ecx
        ret

; arm_channel2: AX = count (0: 65536). Gates channel 2 off (speaker off too), programs it in mode 0 with the
; count, and gates it on: counting starts.
arm_channel2:
        push esi
        mov esi, eax
        in al, SYSTEM_PORT_B
        and al, ~(PORTB_GATE2 | PORTB_SPEAKER)
        out SYSTEM_PORT_B, al
        mov al, PIT_CH2_MODE0
        out PIT_COMMAND, al
        mov eax, esi
        out PIT_CHANNEL2, al
        mov al, ah
        out PIT_CHANNEL2, al
        in al, SYSTEM_PORT_B
        or al, PORTB_GATE2
        out SYSTEM_PORT_B, al
        pop esi
        ret

        console_routines 32
        exception_reporter

        align 4
polls_10ms:     dd 0
count:          dd 0
last_polls:     dd 0

        gdt_start
gdt_end:

        idt_start
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
