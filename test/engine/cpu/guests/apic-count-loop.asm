; apic-count-loop: guest time read through memory-mapped I/O from inside a hot loop (issue 16). The local APIC
; timer counts down once per instruction (divide by 1); a loop of plain instructions reads its current count and
; folds it into ESI 3000 times, then writes ESI to port E9h (four bytes, low first) and exits through port F4h.
; The loop is a translated block once hot: every read must see the instructions retired before it, as the
; interpreter's does, whatever the slicing, so the four bytes are the same with or without translation.
; Build: nasm -f bin apic-count-loop.asm -o apic-count-loop.bin  (flat binary at 0x7C00, started with --mode protected)
        bits 32
        org 0x7C00

LAPIC           equ 0xFEE00000

start:
        mov dword [LAPIC + 0x0F0], 0x1FF        ; SVR: software-enabled
        mov dword [LAPIC + 0x3E0], 0xB          ; divide by 1
        mov dword [LAPIC + 0x320], 0x10040      ; LVT timer: one-shot, masked
        mov dword [LAPIC + 0x380], 0x7FFFFFFF   ; initial count: starts the countdown
        xor esi, esi
        mov ecx, 3000
.loop:
        mov eax, [LAPIC + 0x390]                ; current count
        add esi, eax
        rol esi, 3
        dec ecx
        jnz .loop
        mov ecx, 4
.out:
        mov eax, esi
        out 0xE9, al
        shr esi, 8
        dec ecx
        jnz .out
        xor eax, eax
        out 0xF4, al
