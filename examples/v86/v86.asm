; v86 - a virtual-8086 monitor at ring 0 that reflects a V86 program's software interrupts.
;
; Ring 0 enters virtual-8086 mode with IRETD (EFLAGS.VM = 1 in the frame, which also holds SS:ESP and ES, DS,
; FS, GS for the V86 program) with IOPL 0. In V86 mode with IOPL < 3 the IOPL-sensitive INT n, IRET (and CLI,
; STI, PUSHF, POPF) raise #GP(0) instead of running, as does the privileged HLT at V86's CPL 3 (SDM vol. 3B,
; "8086 Emulation": "Sensitive Instructions"). The
; #GP arrives at ring 0 on the TSS's SS0:ESP0 stack with the V86 segment registers saved in the frame and
; DS, ES, FS, GS nulled. The monitor decodes the faulting instruction at CS*16 + IP and:
;   INT n   reflects it as real mode would: pushes FLAGS, CS, IP+2 on the V86 stack and continues at the
;           handler named by the real-mode IVT entry n;
;   IRET    pops IP, CS, FLAGS from the V86 stack (keeping VM and the monitor's IOPL);
;   OUT     to port 0xF4 (denied by the TSS's I/O permission bitmap, which allows 0xE9): counted, skipped;
;   HLT     ends the V86 program.
; The V86 program prints through port 0xE9 directly (IN/OUT in V86 mode consult the I/O bitmap, not IOPL).
;
;     nasm -f bin -i ../include/ v86.asm -o v86.bin
;     npx ringside run examples/v86/v86.bin --trace cpu-exception,mode-change

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

V86_STACK       equ 0x5000      ; SS = 0, SP = 0x5000
SERVICE_VECTOR  equ 0x42        ; the "BIOS service" the V86 program calls
SERVICE_REPLY   equ 0x4F4B      ; 'OK' in AX from the service
OP_INT          equ 0xCD
OP_IRET         equ 0xCF
OP_HLT          equ 0xF4
OP_OUT_IMM8     equ 0xE6
FLAGS_KEPT      equ EFLAGS_VM | EFLAGS_IOPL3 | 0xFFFC0000 ; bits an emulated IRET must not take from the V86 stack

; Frame of a #GP from V86 mode after PUSHAD (SDM vol. 3A, "Interrupt and Exception Handling in
; Virtual-8086 Mode"): error code, EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.
F_ERROR         equ 32
F_EIP           equ 36
F_CS            equ 40
F_EFLAGS        equ 44
F_ESP           equ 48
F_SS            equ 52

%define VECTOR_13_HANDLER v86_monitor

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        mov ax, SEL_TSS
        ltr ax
        PRINT "v86: a ring-0 monitor reflecting a V86 program's INT through the real-mode IVT", 10
        mov word [SERVICE_VECTOR * 4], v86_service ; the IVT entry the V86 program's INT 0x42 uses
        mov word [SERVICE_VECTOR * 4 + 2], 0

        PRINT "[1] ring 0: IRETD with EFLAGS.VM=1, IOPL 0 -> virtual-8086 mode at 0x0000:"
        PRINT_HEX v86_program, 4
        PRINT 10
        push dword 0                            ; GS
        push dword 0                            ; FS
        push dword 0                            ; DS
        push dword 0                            ; ES
        push dword 0                            ; SS
        push dword V86_STACK                    ; ESP
        push dword EFLAGS_VM | EFLAGS_RESERVED  ; EFLAGS
        push dword 0                            ; CS
        push dword v86_program                  ; EIP
        iretd

; ---- after the V86 program's HLT: check what the monitor and the program recorded
v86_finished:
        cmp word [service_calls], 2
        FAIL_IF ne, "the V86 service did not run twice"
        cmp dword [reflected_ints], 2
        FAIL_IF ne, "the monitor did not reflect two INTs"
        cmp dword [emulated_irets], 2
        FAIL_IF ne, "the monitor did not emulate two IRETs"
        cmp dword [denied_outs], 1
        FAIL_IF ne, "the OUT to port 0xF4 was not denied by the I/O bitmap"
        cmp word [v86_replies_ok], 2
        FAIL_IF ne, "the V86 program did not see the service's reply twice"
        PRINT "[3] ring 0 again: 2 INTs reflected, 2 IRETs emulated, 1 OUT denied by the I/O bitmap", 10
        PRINT "ok", 10
        EXIT 0

; ---- the monitor: #GP handler
v86_monitor:
        pushad
        mov ebp, esp
        mov ax, SEL_FLAT                        ; DS/ES were nulled on the way in from V86 mode
        mov ds, ax
        mov es, ax
        test dword [ebp + F_EFLAGS], EFLAGS_VM
        FAIL_IF z, "#GP in the monitor itself (not from V86 mode)"
        cmp dword [ebp + F_ERROR], 0
        FAIL_IF ne, "a #GP from a V86 sensitive instruction must have error code 0"
        movzx esi, word [ebp + F_CS]            ; linear address of the faulting instruction
        shl esi, 4
        movzx eax, word [ebp + F_EIP]
        add esi, eax
        movzx edi, word [ebp + F_SS]            ; linear address of the V86 stack top
        shl edi, 4
        movzx eax, word [ebp + F_ESP]
        add edi, eax
        mov al, [esi]
        cmp al, OP_INT
        je .int
        cmp al, OP_IRET
        je .iret
        cmp al, OP_OUT_IMM8
        je .out
        cmp al, OP_HLT
        je .hlt
        FAIL "unexpected #GP from V86 mode"

.int:   ; push FLAGS, CS, IP of the next instruction; continue at the IVT's CS:IP
        movzx ebx, byte [esi + 1]
        PRINT "    monitor: INT "
        PRINT_HEX ebx, 2
        PRINT " at "
        PRINT_HEX [ebp + F_CS], 4
        PRINT ":"
        PRINT_HEX [ebp + F_EIP], 4
        PRINT " reflected to "
        PRINT_HEX [ebx * 4 + 2], 4
        PRINT ":"
        PRINT_HEX [ebx * 4], 4
        PRINT 10
        sub edi, 6
        sub word [ebp + F_ESP], 6
        mov ax, [ebp + F_EIP]
        add ax, 2
        mov [edi], ax                           ; IP
        mov ax, [ebp + F_CS]
        mov [edi + 2], ax                       ; CS
        mov ax, [ebp + F_EFLAGS]
        mov [edi + 4], ax                       ; FLAGS
        movzx eax, word [ebx * 4]
        mov [ebp + F_EIP], eax
        movzx eax, word [ebx * 4 + 2]
        mov [ebp + F_CS], eax
        and dword [ebp + F_EFLAGS], ~(EFLAGS_IF | (1 << 8)) ; real-mode INT clears IF and TF
        inc dword [reflected_ints]
        jmp .resume

.iret:  ; pop IP, CS, FLAGS
        movzx eax, word [edi]
        mov [ebp + F_EIP], eax
        movzx eax, word [edi + 2]
        mov [ebp + F_CS], eax
        movzx eax, word [edi + 4]
        and eax, ~FLAGS_KEPT
        and dword [ebp + F_EFLAGS], FLAGS_KEPT
        or [ebp + F_EFLAGS], eax
        add word [ebp + F_ESP], 6
        inc dword [emulated_irets]
        PRINT "    monitor: IRET emulated, back to "
        PRINT_HEX [ebp + F_CS], 4
        PRINT ":"
        PRINT_HEX [ebp + F_EIP], 4
        PRINT 10
        jmp .resume

.out:
        cmp byte [esi + 1], EXIT_PORT
        FAIL_IF ne, "#GP on an OUT the I/O bitmap allows"
        PRINT "    monitor: OUT 0xF4 from V86 mode denied by the I/O bitmap; skipped", 10
        inc dword [denied_outs]
        add word [ebp + F_EIP], 2
        jmp .resume

.hlt:
        PRINT "    monitor: HLT from V86 mode: the program is done", 10
        mov esp, STACK_TOP                      ; drop the V86 frame for good
        jmp v86_finished

.resume:
        popad
        add esp, 4                              ; error code
        iretd                                   ; VM=1 in the frame: back to V86 mode, ES/DS/FS/GS reloaded

        console_routines 32
        exception_reporter

; ================================================================ virtual-8086 mode (16-bit, real-mode style)
        bits 16
v86_program:
        mov si, message_1
        int SERVICE_VECTOR                      ; #GP(0) -> monitor -> IVT[0x42]
        cmp ax, SERVICE_REPLY
        jne .no_reply
        inc word [v86_replies_ok]
.no_reply:
        mov si, message_2
        int SERVICE_VECTOR
        cmp ax, SERVICE_REPLY
        jne .no_reply_2
        inc word [v86_replies_ok]
.no_reply_2:
        mov al, 1
        out EXIT_PORT, al                       ; denied by the bitmap: must not end the run
        hlt                                     ; #GP(0) -> monitor: the program is done

; The service: prints DS:SI through port 0xE9 (allowed by the bitmap) and returns AX = 'OK'.
v86_service:
        push si
.next:
        lodsb
        test al, al
        jz .done
        out DEBUG_PORT, al
        jmp .next
.done:
        inc word [service_calls]
        pop si
        mov ax, SERVICE_REPLY
        iret                                    ; #GP(0) -> monitor emulates it

message_1:      db "[2] V86 mode: hello through INT 0x42, printed by the real-mode service", 10, 0
message_2:      db "    V86 mode: and once more; now an OUT to 0xF4 (denied) and HLT", 10, 0

        align 4
service_calls:  dw 0
v86_replies_ok: dw 0
reflected_ints: dd 0
emulated_irets: dd 0
denied_outs:    dd 0

; TSS with an I/O permission bitmap for ports 0..0xFF: every port allowed except the exit port.
        align 4
tss:    tss32 0, STACK_TOP, SEL_CODE, SEL_FLAT, EFLAGS_RESERVED
io_bitmap:
        times EXIT_PORT / 8 db 0
        db 1 << (EXIT_PORT % 8)
        times 256 / 8 - ($ - io_bitmap) db 0
        db 0xFF                                 ; the byte after the bitmap must have all bits set
tss_end:

        gdt_start
SEL_TSS equ $ - gdt
        descriptor ABS(tss), tss_end - tss - 1, ACC_TSS32, 0
gdt_end:

        idt_start
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
