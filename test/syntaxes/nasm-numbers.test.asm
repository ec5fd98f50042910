; SYNTAX TEST "source.asm.nasm" "numbers in every NASM radix"
    mov ax, 0x7C00
;           ^^^^^^ constant.numeric.hex.nasm
    mov ax, 7c00h
;           ^^^^^ constant.numeric.hex.nasm
    mov ax, 0h7c00
;           ^^^^^^ constant.numeric.hex.nasm
    mov ax, $0abc
;           ^^^^^ constant.numeric.hex.nasm
    mov ax, 0ffx
;           ^^^^ constant.numeric.hex.nasm
    mov eax, 0xdead_beef
;            ^^^^^^^^^^^ constant.numeric.hex.nasm
    mov al, 0b1010_0101
;           ^^^^^^^^^^^ constant.numeric.binary.nasm
    mov al, 0y11
;           ^^^^ constant.numeric.binary.nasm
    mov al, 1010b
;           ^^^^^ constant.numeric.binary.nasm
    mov al, 11y
;           ^^^ constant.numeric.binary.nasm
    mov al, 0o17
;           ^^^^ constant.numeric.octal.nasm
    mov al, 0q17
;           ^^^^ constant.numeric.octal.nasm
    mov al, 17q
;           ^^^ constant.numeric.octal.nasm
    mov al, 17o
;           ^^^ constant.numeric.octal.nasm
    mov al, 0d99
;           ^^^^ constant.numeric.decimal.nasm
    mov al, 0t99
;           ^^^^ constant.numeric.decimal.nasm
    mov al, 99d
;           ^^^ constant.numeric.decimal.nasm
    mov ax, 1_000
;           ^^^^^ constant.numeric.decimal.nasm
    mov al, 42
;           ^^ constant.numeric.decimal.nasm
    dd 1.5e3
;      ^^^^^ constant.numeric.float.nasm
    mov ax, beefh
;           ^^^^^ - constant.numeric
    jmp $
;       ^ support.constant.location.nasm
    times 510-($-$$) db 0
;   ^^^^^ keyword.control.directive.nasm
;                ^^ support.constant.location.nasm
;                    ^^ storage.type.data.nasm
