; exceptions - protected-mode faults delivered through the guest's own IDT, each checked by the guest.
;
; The IDT sends vectors 0..31 to a reporter (examples/include/guest.inc) that prints the vector, the error code
; and the CS:EIP of the exception frame, checks all three against what the program announced with
; EXPECT_FAULT, and resumes after the faulting instruction. A fault's saved EIP must point AT the faulting
; instruction (SDM vol. 3A, "Exception Classifications"), so the reporter checks that too. Each case also
; checks that the failed instruction changed nothing (the register it tried to load or the operands of DIV).
;
;     nasm -f bin -i ../include/ exceptions.asm -o exceptions.bin
;     npx ringside run examples/exceptions/exceptions.bin --trace cpu-exception

%include "guest.inc"

        org LOAD_ADDRESS
        bits 16

OUTSIDE_GDT     equ 0x0083      ; index 16, RPL 3: past the GDT limit (8 entries, limit 0x3F)
OUTSIDE_GDT_ERR  equ 0x0080      ; its error code: the selector with the RPL bits replaced by EXT=0, IDT=0

start:
        enter_protected32 gdtr, SEL_CODE, SEL_FLAT
        lidt [idtr]
        PRINT "exceptions: faults taken through the guest's IDT, error codes checked", 10

; ---- #GP(selector): a selector beyond the GDT limit (SDM vol. 2, MOV: "If segment selector index is
; outside descriptor table limits, #GP(selector)")
        PRINT "[1] mov ds, 0x0083: index 16 is beyond the GDT limit 0x003F -> #GP(0x0080)", 10
        mov ax, OUTSIDE_GDT
        EXPECT_FAULT 13, OUTSIDE_GDT_ERR, .gp_limit, .gp_limit_done
.gp_limit:
        mov ds, ax
.gp_limit_done:
        ASSERT_FAULT_TAKEN
        call check_ds_untouched

; ---- #GP(selector): an execute-only code segment is not readable, so it cannot go into DS
        PRINT "[2] mov ds, 0x0018: an execute-only code segment -> #GP(0x0018)", 10
        mov ax, SEL_EXEC_ONLY
        EXPECT_FAULT 13, SEL_EXEC_ONLY, .gp_type, .gp_type_done
.gp_type:
        mov ds, ax
.gp_type_done:
        ASSERT_FAULT_TAKEN
        call check_ds_untouched

; ---- #NP(selector): the descriptor is fine but not present (checked after the type, SDM vol. 2, MOV)
        PRINT "[3] mov ds, 0x0028: a data descriptor with P=0 -> #NP(0x0028)", 10
        mov ax, SEL_NOT_PRESENT
        EXPECT_FAULT 11, SEL_NOT_PRESENT, .np, .np_done
.np:
        mov ds, ax
.np_done:
        ASSERT_FAULT_TAKEN
        call check_ds_untouched

; ---- #GP(0): SS may not be null
        PRINT "[4] mov ss, 0x0000: a null selector in SS -> #GP(0)", 10
        xor ax, ax
        EXPECT_FAULT 13, 0, .ss_null, .ss_null_done
.ss_null:
        mov ss, ax
.ss_null_done:
        ASSERT_FAULT_TAKEN
        mov ax, ss
        cmp ax, SEL_FLAT
        FAIL_IF ne, "the failed load changed SS"

; ---- #GP(0): a write through a read-only data segment (the load itself is fine)
        PRINT "[5] write through ES = 0x0020, a read-only data segment -> #GP(0)", 10
        mov ax, SEL_READ_ONLY
        mov es, ax
        mov dword [scratch], 'KEEP'
        EXPECT_FAULT 13, 0, .ro_write, .ro_write_done
.ro_write:
        mov dword [es:scratch], 'LOST'
.ro_write_done:
        ASSERT_FAULT_TAKEN
        cmp dword [scratch], 'KEEP'
        FAIL_IF ne, "the faulting store reached memory"
        cmp dword [es:scratch], 'KEEP'          ; reading through it is allowed
        FAIL_IF ne, "reading through the read-only segment did not give the value"
        mov ax, SEL_FLAT
        mov es, ax

; ---- #UD: UD2 is defined to be undefined
        PRINT "[6] ud2 -> #UD (no error code)", 10
        EXPECT_FAULT 6, 0, .ud, .ud_done
.ud:
        ud2
.ud_done:
        ASSERT_FAULT_TAKEN

; ---- #DE: division by zero, and a quotient too large for its register
        PRINT "[7] div ecx with ECX = 0 -> #DE", 10
        mov eax, 0x12345678
        mov edx, 0x9ABC
        xor ecx, ecx
        EXPECT_FAULT 0, 0, .div_zero, .div_zero_done
.div_zero:
        div ecx
.div_zero_done:
        ASSERT_FAULT_TAKEN
        cmp eax, 0x12345678
        FAIL_IF ne, "the faulting DIV changed EAX"
        cmp edx, 0x9ABC
        FAIL_IF ne, "the faulting DIV changed EDX"

        PRINT "[8] idiv ecx with EDX:EAX = -2^31 and ECX = -1 (quotient 2^31 does not fit) -> #DE", 10
        mov eax, 0x80000000
        cdq
        mov ecx, -1
        EXPECT_FAULT 0, 0, .div_overflow, .div_overflow_done
.div_overflow:
        idiv ecx
.div_overflow_done:
        ASSERT_FAULT_TAKEN
        cmp eax, 0x80000000
        FAIL_IF ne, "the faulting IDIV changed EAX"

; ---- #SS(0) versus #GP(0): the same kind of limit violation, told apart by the segment used
        PRINT "[9] SS limit 0xFFFF: mov eax, [ebp] with EBP = 0x10000 (SS is EBP's default segment) -> #SS(0)", 10
        mov ax, SEL_SMALL_STACK                 ; the stack and the reporter's variables stay within the limit
        mov ss, ax
        mov ebp, 0x10000
        EXPECT_FAULT 12, 0, .ss_limit, .ss_limit_done
.ss_limit:
        mov eax, [ebp]
.ss_limit_done:
        ASSERT_FAULT_TAKEN
        mov eax, [ds:ebp]                       ; the same offset through the flat DS is fine
        mov ax, SEL_FLAT
        mov ss, ax

; ---- expand-down: the valid offsets lie ABOVE the limit (SDM vol. 3A, "Segment Descriptors", E flag)
        PRINT "[10] ES expand-down, limit 0x0FFF, B=1 (valid offsets 0x1000..0xFFFFFFFF): ES:0x0800 -> #GP(0)", 10
        mov ax, SEL_EXPAND_DOWN
        mov es, ax
        mov dword [es:0x2000], 'EXPD'           ; above the limit: allowed
        cmp dword [0x2000], 'EXPD'
        FAIL_IF ne, "the store above an expand-down limit did not reach memory"
        EXPECT_FAULT 13, 0, .expand_down, .expand_down_done
.expand_down:
        mov eax, [es:0x0800]
.expand_down_done:
        ASSERT_FAULT_TAKEN
        mov ax, SEL_FLAT
        mov es, ax

        PRINT "ok", 10
        EXIT 0

; A segment load that faults leaves the register as it was.
check_ds_untouched:
        push eax
        mov ax, ds
        cmp ax, SEL_FLAT
        FAIL_IF ne, "the failed load changed the DS selector"
        cmp dword [scratch_probe], 'PROB'       ; and its cache still works as before
        FAIL_IF ne, "DS no longer reaches memory as before"
        pop eax
        ret

        console_routines 32
        exception_reporter

        align 4
scratch:        dd 0
scratch_probe:  dd 'PROB'

        gdt_start
SEL_EXEC_ONLY equ $ - gdt
        descriptor 0, 0xFFFFF, ACC_CODE_XO, FL_FLAT
SEL_READ_ONLY equ $ - gdt
        descriptor 0, 0xFFFFF, ACC_DATA_RO, FL_FLAT
SEL_NOT_PRESENT equ $ - gdt
        descriptor 0, 0xFFFFF, ACC_DATA & ~ACC_NOT_PRESENT, FL_FLAT
SEL_SMALL_STACK equ $ - gdt                     ; 64 KiB stack, byte granular, B=1
        descriptor 0, 0xFFFF, ACC_DATA, FL_DB
SEL_EXPAND_DOWN equ $ - gdt                     ; data, read/write, expand-down (type 0110)
        descriptor 0, 0x0FFF, ACC_DATA | ACC_EXPAND_DOWN, FL_DB
gdt_end:

        idt_start
idt_end:

gdtr:   pseudo_descriptor gdt, gdt_end
idtr:   pseudo_descriptor idt, idt_end
