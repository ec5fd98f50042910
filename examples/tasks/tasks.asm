; tasks - hardware task switching: a task gate, JMP to a TSS, CALL to a TSS, and nested returns with IRET.
;
; Three 32-bit TSSs: MAIN (the task the program starts in, after LTR), A and B. The story:
;   main --INT 0x40 (task gate)--> A     nested: A's back link = MAIN, NT set in A, MAIN stays busy
;   A    --JMP TSS_B-------------> B     not nested: A's busy bit cleared, B's NT = 0 from its TSS
;   B    --JMP TSS_A-------------> A     A resumes after its JMP, with NT = 1 and the back link kept
;   A    --IRET------------------> main  NT = 1: return to the back link; A's busy bit cleared
;   main --CALL TSS_B------------> B     nested: B's back link = MAIN, NT set; B resumes after its JMP
;   B    --IRET------------------> main
; Each step appends a letter to a log and checks the busy bits, NT and the back link against SDM vol. 3A,
; "Task Switching" (table "Effect of a Task Switch on Busy Flag, NT Flag, Previous Task Link Field, and TS
; Flag"). MAIN also checks that its registers survive the trips (they are saved in and restored from its TSS).
;
;     nasm -f bin -i ../include/ tasks.asm -o tasks.bin
;     npx ringside run examples/tasks/tasks.bin --trace segment-load,cpu-exception

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

TASK_GATE_VECTOR equ 0x40
STACK_A         equ 0x6000
STACK_B         equ 0x5000
MAIN_EBP        equ 0x4D41494E  ; 'MAIN' in EBP, EDI: must survive the task switches
MAIN_EDI        equ 0x0BADF00D
%define EXPECTED_LOG "MABambc"

; BUSY? SELECTOR: ZF = 0 when the TSS descriptor at SELECTOR is busy
%macro BUSY? 1
        test byte [gdt + (%1) + 5], TYPE_BUSY_BIT
%endmacro

; LOG 'c': append one letter to the log
%macro LOG 1
        mov eax, [log_next]
        mov byte [eax], %1
        inc dword [log_next]
%endmacro

; NT? : ZF = 0 when EFLAGS.NT is set
%macro NT? 0
        pushfd
        test dword [esp], EFLAGS_NT
        lea esp, [esp + 4]              ; drop the copy without touching the flags of the TEST
%endmacro

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        mov ax, SEL_TSS_MAIN
        ltr ax                                  ; MAIN is the current task now; LTR marks it busy
        PRINT "tasks: task switches through a task gate, JMP, CALL and IRET", 10
        BUSY? SEL_TSS_MAIN
        FAIL_IF z, "LTR did not mark the MAIN TSS busy"

        mov ebp, MAIN_EBP
        mov edi, MAIN_EDI
        LOG 'M'
        PRINT "[1] main: INT 0x40 -> task gate -> task A", 10
        int TASK_GATE_VECTOR
        LOG 'm'
        PRINT "[4] main: back from A through IRET", 10
        cmp ebp, MAIN_EBP
        FAIL_IF ne, "EBP of MAIN was not restored from its TSS"
        cmp edi, MAIN_EDI
        FAIL_IF ne, "EDI of MAIN was not restored from its TSS"
        NT?
        FAIL_IF nz, "NT set in MAIN after the return"
        BUSY? SEL_TSS_A
        FAIL_IF nz, "IRET did not clear A's busy bit"
        BUSY? SEL_TSS_MAIN
        FAIL_IF z, "MAIN is not busy after the return"

        PRINT "[5] main: CALL 0x0028:0 -> task B (resumes after its JMP)", 10
        call SEL_TSS_B:0                        ; the offset is ignored for a TSS
        LOG 'c'
        PRINT "[7] main: back from B through IRET", 10
        cmp ebp, MAIN_EBP
        FAIL_IF ne, "EBP of MAIN was not restored after the CALL"
        BUSY? SEL_TSS_B
        FAIL_IF nz, "IRET did not clear B's busy bit"

        mov esi, log
        mov edi, expected_log
        mov ecx, expected_log_end - expected_log
        repe cmpsb
        FAIL_IF ne, "the tasks ran in the wrong order (see the log)"
        PRINT "    order of events: ", EXPECTED_LOG, 10
        PRINT "ok", 10
        EXIT 0

; ---- task A: entered first through the task gate, resumed later by B's JMP
task_a:
        LOG 'A'
        PRINT "[2] task A: entered through the task gate", 10
        str ax
        cmp ax, SEL_TSS_A
        FAIL_IF ne, "TR does not hold A's selector in task A"
        NT?
        FAIL_IF z, "NT is clear in a task entered through INT (nested)"
        cmp word [tss_a + TSS_LINK], SEL_TSS_MAIN
        FAIL_IF ne, "A's back link does not name MAIN"
        BUSY? SEL_TSS_MAIN
        FAIL_IF z, "MAIN is not busy while A is nested in it"
        BUSY? SEL_TSS_A
        FAIL_IF z, "A is not busy while it runs"
        cmp esp, STACK_A
        FAIL_IF ne, "A did not start on the stack from its TSS"
        mov ebp, 'AAAA'                         ; clobber what MAIN keeps: its TSS must restore them
        mov edi, 'AAAA'
        PRINT "    task A: JMP 0x0028:0 -> task B", 10
        jmp SEL_TSS_B:0
        ; resumed here by B's JMP
        LOG 'a'
        PRINT "[3] task A: resumed by B's JMP; IRET returns to the back link (MAIN)", 10
        NT?
        FAIL_IF z, "A lost NT across the JMPs"
        cmp ebp, 'AAAA'
        FAIL_IF ne, "A's EBP was not restored from its TSS"
        iretd
        FAIL "task A ran past its IRET"

; ---- task B: entered by A's JMP, resumed later by MAIN's CALL
task_b:
        LOG 'B'
        PRINT "    task B: entered through JMP", 10
        NT?
        FAIL_IF nz, "NT is set in a task entered through JMP"
        BUSY? SEL_TSS_A
        FAIL_IF nz, "JMP did not clear the busy bit of the task it left (A)"
        BUSY? SEL_TSS_B
        FAIL_IF z, "B is not busy while it runs"
        PRINT "    task B: JMP 0x0020:0 -> back to task A", 10
        jmp SEL_TSS_A:0
        ; resumed here by MAIN's CALL
        LOG 'b'
        PRINT "[6] task B: resumed by MAIN's CALL (nested); IRET returns to MAIN", 10
        NT?
        FAIL_IF z, "NT is clear in a task entered through CALL"
        cmp word [tss_b + TSS_LINK], SEL_TSS_MAIN
        FAIL_IF ne, "B's back link does not name MAIN"
        iretd
        FAIL "task B ran past its IRET"

        console_routines 32
        exception_reporter

        align 4
log_next:       dd log
log:            times 16 db 0
expected_log:   db EXPECTED_LOG
expected_log_end:

        align 4
tss_main:       tss32 0, STACK_TOP, SEL_CODE, SEL_FLAT, EFLAGS_RESERVED   ; filled by the first switch away
tss_a:          tss32 task_a, STACK_A, SEL_CODE, SEL_FLAT, EFLAGS_RESERVED
tss_b:          tss32 task_b, STACK_B, SEL_CODE, SEL_FLAT, EFLAGS_RESERVED

        gdt_start
SEL_TSS_MAIN equ $ - gdt
        descriptor ABS(tss_main), TSS32_SIZE - 1, ACC_TSS32, 0
SEL_TSS_A equ $ - gdt
        descriptor ABS(tss_a), TSS32_SIZE - 1, ACC_TSS32, 0
SEL_TSS_B equ $ - gdt
        descriptor ABS(tss_b), TSS32_SIZE - 1, ACC_TSS32, 0
gdt_end:

        idt_start
        times TASK_GATE_VECTOR * 8 - ($ - idt) db 0
        task_gate SEL_TSS_A
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
