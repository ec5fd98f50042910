; rings - privilege transitions between ring 0 and ring 3.
;
;   1. ring 0 -> ring 3 through IRET (an outer-ring return: SS:ESP come from the frame; FS, left holding a
;      DPL 0 selector, is nulled because its DPL is below the new CPL; SDM vol. 2, IRET)
;   2. ring 3 -> ring 0 through a call gate with two dword parameters: the CPU switches to the ring-0 stack
;      named in the TSS (ESP0/SS0), copies the parameters and pushes the caller's SS:ESP and CS:EIP
;      (SDM vol. 3A, "Calling Procedures Using a Call Gate"); RET 8 goes back, releasing the parameters on
;      both stacks and nulling ES, which the kernel left holding a DPL 0 selector
;   3. ring 3 -> ring 0 through an interrupt gate of DPL 3 (INT 0x80), IRET back
;   4. #GP at ring 3, handled at ring 0: loading a DPL 0 data segment (#GP(0x0010)) and HLT (#GP(0))
;   5. INT 0x80 with the exit function: ring 0 ends the run
; Ring 3 runs with IOPL 3 so that it can print through port 0xE9 itself.
;
;     nasm -f bin -i ../include/ rings.asm -o rings.bin
;     npx ringside run examples/rings/rings.bin --trace segment-load,cpu-exception

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

KERNEL_STACK    equ STACK_TOP   ; ESP0: where every entry from ring 3 starts its ring-0 stack
USER_STACK      equ 0x6000
SYSCALL_VECTOR  equ 0x80
SYS_PING        equ 0           ; INT 0x80 functions (EAX)
SYS_EXIT        equ 1           ; EBX = exit code
PING_REPLY      equ 'PONG'
PARAM_A         equ 0x11111111  ; pushed first: the higher address on both stacks
PARAM_B         equ 0x22222222

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        mov ax, SEL_TSS
        ltr ax                                  ; the TSS supplies SS0:ESP0 for entries from ring 3
        PRINT "rings: privilege transitions between ring 0 and ring 3", 10
        ASSERT_CPL 0, "not at CPL 0 after entering protected mode"

; ---- 1. IRET to ring 3
        mov ax, SEL_USER_DATA
        mov ds, ax
        mov es, ax
        mov gs, ax                              ; FS keeps SEL_FLAT (DPL 0): IRET must null it
        PRINT "[1] ring 0: IRET to CS 0x001B (RPL 3), SS 0x0023, FS still holding the DPL 0 selector 0x0010", 10
        IRET_TO_RING3 SEL_USER_CODE, SEL_USER_DATA, USER_STACK, user_main, EFLAGS_RESERVED | EFLAGS_IOPL3

; ---- the call gate's target: ring 0, two parameters
; Stack on entry (SDM vol. 3A, "Stack Switching"): [esp] EIP, [esp+4] CS, [esp+8] PARAM_B, [esp+12] PARAM_A,
; [esp+16] caller's ESP, [esp+20] caller's SS.
kernel_service:
        ASSERT_CPL 0, "the call gate did not reach CPL 0"
        cmp dword [esp + 4], SEL_USER_CODE
        FAIL_IF ne, "call gate frame: the saved CS is not the ring-3 code selector"
        cmp dword [esp + 8], PARAM_B
        FAIL_IF ne, "call gate frame: the second parameter was not copied to [esp+8]"
        cmp dword [esp + 12], PARAM_A
        FAIL_IF ne, "call gate frame: the first parameter was not copied to [esp+12]"
        cmp dword [esp + 20], SEL_USER_DATA
        FAIL_IF ne, "call gate frame: the saved SS is not the ring-3 stack selector"
        lea eax, [esp + 24]
        cmp eax, KERNEL_STACK
        FAIL_IF ne, "the call gate did not switch to ESP0 from the TSS"
        PRINT "    ring 0 (call gate): stack switched to ESP0, parameters copied, caller's SS:ESP and CS:EIP saved", 10
        mov eax, [esp + 8]
        add eax, [esp + 12]                     ; the reply: the sum of the parameters
        mov bx, SEL_FLAT
        mov es, bx                              ; DPL 0: RET to ring 3 must null ES
        retf 8

; ---- INT 0x80, DPL 3 interrupt gate
; Stack on entry: [esp] EIP, [esp+4] CS, [esp+8] EFLAGS, [esp+12] ESP, [esp+16] SS.
syscall:
        cmp eax, SYS_EXIT
        je .exit
        cmp eax, SYS_PING
        FAIL_IF ne, "unknown INT 0x80 function"
        ASSERT_CPL 0, "INT 0x80 did not reach CPL 0"
        cmp dword [esp + 4], SEL_USER_CODE
        FAIL_IF ne, "INT 0x80 frame: the saved CS is not the ring-3 code selector"
        cmp dword [esp + 16], SEL_USER_DATA
        FAIL_IF ne, "INT 0x80 frame: the saved SS is not the ring-3 stack selector"
        lea eax, [esp + 20]
        cmp eax, KERNEL_STACK
        FAIL_IF ne, "INT 0x80 did not switch to ESP0 from the TSS"
        test dword [esp + 8], EFLAGS_IOPL3
        FAIL_IF z, "INT 0x80 frame: the saved EFLAGS lost IOPL"
        PRINT "    ring 0 (INT 0x80): stack switched to ESP0, ring-3 SS:ESP, EFLAGS, CS:EIP saved", 10
        mov eax, PING_REPLY
        iretd
.exit:
        ASSERT_CPL 0, "INT 0x80 (exit) did not reach CPL 0"
        PRINT "[5] ring 0: exit requested from ring 3", 10
        PRINT "ok", 10
        EXIT bl

; ================================================================ ring 3
user_main:
        ASSERT_CPL 3, "IRET did not enter CPL 3"
        mov ax, ss
        cmp ax, SEL_USER_DATA
        FAIL_IF ne, "IRET did not load SS from the frame"
        cmp esp, USER_STACK
        FAIL_IF ne, "IRET did not load ESP from the frame"
        mov ax, fs
        test ax, ax
        FAIL_IF nz, "IRET to ring 3 did not null FS (DPL 0 < CPL 3)"
        mov ax, ds
        cmp ax, SEL_USER_DATA
        FAIL_IF ne, "IRET changed DS although its DPL is 3"
        PRINT "    ring 3: CPL 3, SS:ESP from the frame, FS nulled, DS kept", 10

; ---- 2. call gate
        PRINT "[2] ring 3: far CALL through the call gate 0x0033 with two parameters", 10
        push dword PARAM_A
        push dword PARAM_B
        mov ebp, esp
        call SEL_CALL_GATE:0                    ; the offset is ignored: the gate names the target
        cmp eax, PARAM_A + PARAM_B
        FAIL_IF ne, "the call gate's reply is wrong"
        lea ecx, [ebp + 8]
        cmp esp, ecx
        FAIL_IF ne, "RET 8 did not release the parameters on the ring-3 stack"
        ASSERT_CPL 3, "RET did not return to CPL 3"
        mov ax, es
        test ax, ax
        FAIL_IF nz, "RET to ring 3 did not null ES (DPL 0 < CPL 3)"
        mov ax, SEL_USER_DATA
        mov es, ax
        PRINT "    ring 3 again: reply received, parameters released, ES nulled by RET", 10

; ---- 3. interrupt gate
        PRINT "[3] ring 3: INT 0x80 through an interrupt gate of DPL 3", 10
        mov eax, SYS_PING
        int SYSCALL_VECTOR
        cmp eax, PING_REPLY
        FAIL_IF ne, "INT 0x80 gave the wrong reply"
        cmp esp, ecx
        FAIL_IF ne, "IRET from INT 0x80 did not restore ESP"
        PRINT "    ring 3 again after IRET", 10

; ---- 4. #GP at ring 3, handled at ring 0 by the reporter (it resumes at the label given)
        PRINT "[4] ring 3: mov ds, 0x0010 (a DPL 0 data segment) -> #GP(0x0010)", 10
        mov ax, SEL_FLAT
        EXPECT_FAULT 13, SEL_FLAT, .load_kernel_data, .after_load
.load_kernel_data:
        mov ds, ax
.after_load:
        ASSERT_FAULT_TAKEN
        mov ax, ds
        cmp ax, SEL_USER_DATA
        FAIL_IF ne, "the failed load changed DS"
        PRINT "    ring 3: hlt (CPL 0 only) -> #GP(0)", 10
        EXPECT_FAULT 13, 0, .halt, .after_halt
.halt:
        hlt
.after_halt:
        ASSERT_FAULT_TAKEN
        ASSERT_CPL 3, "the #GP handler did not return to CPL 3"

; ---- 5. leave through the kernel
        mov eax, SYS_EXIT
        xor ebx, ebx
        int SYSCALL_VECTOR
        FAIL "INT 0x80 exit returned"

        console_routines 32
        exception_reporter

        align 4
tss:    tss32 0, KERNEL_STACK, SEL_CODE, SEL_FLAT, EFLAGS_RESERVED
tss_end:

        gdt_start
        user_segments
SEL_TSS equ $ - gdt
        descriptor ABS(tss), tss_end - tss - 1, ACC_TSS32, 0
SEL_CALL_GATE equ ($ - gdt) | 3
        gate kernel_service, SEL_CODE, GATE_CALL32 | GATE_DPL3, 2
gdt_end:

        idt_start
        gate_at SYSCALL_VECTOR, syscall, SEL_CODE, GATE_INT32 | GATE_DPL3
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
