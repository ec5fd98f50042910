; SYNTAX TEST "source.asm.nasm" "instructions, registers, directives, macros, strings, labels"
%define CODE_SEL 0x08
; <- meta.preprocessor.nasm keyword.control.preprocessor.nasm
;       ^^^^^^^^ meta.preprocessor.nasm
;                ^^^^ constant.numeric.hex.nasm
%macro load_ds 1
; <- keyword.control.preprocessor.nasm
    mov ax, %1
;           ^^ variable.parameter.macro.nasm
%%skip:
; <- entity.name.function.label.macro-local.nasm
%endmacro
; <- keyword.control.preprocessor.nasm
[bits 16]
; <- keyword.control.directive.nasm
section .text
; <- keyword.control.directive.nasm
;       ^^^^^ support.constant.section.nasm
global start
; <- keyword.control.directive.nasm
start:
; <- entity.name.function.label.nasm
;    ^ punctuation.separator.label.nasm
    cli                 ; no interrupts
;   ^^^ keyword.mnemonic.nasm
;                       ^^^^^^^^^^^^^^^ comment.line.semicolon.nasm
    lgdt [gdt_descriptor]
;   ^^^^ keyword.mnemonic.nasm
;        ^^^^^^^^^^^^^^^^ meta.brackets.memory.nasm
    mov eax, cr0
;       ^^^ variable.language.register.general.nasm
;            ^^^ variable.language.register.control.nasm
    mov dr7, eax
;       ^^^ variable.language.register.debug.nasm
    mov ss, ax
;       ^^ variable.language.register.segment.nasm
    mov word [es:di], 0
;       ^^^^ storage.modifier.size.nasm
;             ^^ variable.language.register.segment.nasm
;                ^^ variable.language.register.general.nasm
    jmp dword CODE_SEL:.flush
;   ^^^ keyword.control.jump.nasm
;                      ^^^^^^ variable.other.label.local.nasm
.flush:
; <- entity.name.function.label.local.nasm
    loop .flush
;   ^^^^ keyword.control.jump.nasm
    mov r8d, fs
;       ^^^ variable.language.register.general.nasm
;            ^^ variable.language.register.segment.nasm
message: db 'it''s', "a;b", `tab\there`, 0
; <- entity.name.function.label.nasm
;        ^^ storage.type.data.nasm
;           ^^^^ string.quoted.single.nasm
;                    ^^^^^ string.quoted.double.nasm
;                           ^^^^^^^^^^^ string.quoted.other.backtick.nasm
;                               ^^ constant.character.escape.nasm
;                                        ^ constant.numeric.decimal.nasm
gdt_code: dq 0x00CF9A000000FFFF
; <- entity.name.function.label.nasm
;         ^^ storage.type.data.nasm
;            ^^^^^^^^^^^^^^^^^^ constant.numeric.hex.nasm
stack_top equ 0x9000
; <- entity.name.function.label.nasm
;         ^^^ keyword.control.directive.nasm
buffer: resb 64
;       ^^^^ storage.type.data.nasm
