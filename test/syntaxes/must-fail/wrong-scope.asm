; SYNTAX TEST "source.asm.nasm" "a deliberately wrong expectation: proves the harness reports failures"
    mov ax, 0x10
;           ^^^^ constant.numeric.binary.nasm
