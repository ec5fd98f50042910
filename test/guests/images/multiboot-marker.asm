; A small multiboot kernel for the real-guest tests: whatever loaded it (GRUB's `multiboot`, SYSLINUX's mboot.c32,
; Ringside's own multiboot loader) it reports what the loader handed over — the magic in EAX and, from the
; multiboot information at EBX, the boot loader's name, the command line and the memory sizes — then prints the
; marker line and ends the run through port 0xF4. Every character goes to the debug port 0xE9 and to COM1, so a
; test can check either.
;
; Build: nasm -f bin multiboot-marker.asm -o multiboot-marker.bin (the .bin beside it is checked against this).
; The header uses the a.out kludge (flag 16), so the flat binary needs no ELF: the loader copies the file to
; LOAD_ADDR and jumps to `entry`.

bits 32
LOAD_ADDR       equ 0x100000
MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ (1 << 1) | (1 << 16)     ; want memory info; header carries the load addresses
MB_BOOT_MAGIC   equ 0x2BADB002               ; what a multiboot loader leaves in EAX
COM1            equ 0x3F8
DEBUG_PORT      equ 0xE9
EXIT_PORT       equ 0xF4

org LOAD_ADDR
header:
        dd MB_MAGIC
        dd MB_FLAGS
        dd -(MB_MAGIC + MB_FLAGS)
        dd header                            ; header_addr
        dd LOAD_ADDR                         ; load_addr: the file from its first byte
        dd load_end                          ; load_end_addr
        dd bss_end                           ; bss_end_addr
        dd entry                             ; entry_addr

entry:
        cli
        mov esp, stack_top
        mov [boot_magic], eax
        mov [boot_info], ebx
        call com1_init

        mov esi, msg_hello
        call puts
        cmp dword [boot_magic], MB_BOOT_MAGIC
        jne .bad_magic
        mov esi, msg_magic_ok
        call puts

        mov ebx, [boot_info]
        test dword [ebx], 1 << 9             ; flags.boot_loader_name
        jz .no_name
        mov esi, msg_loader
        call puts
        mov esi, [ebx + 64]
        call puts
.no_name:
        test dword [ebx], 1 << 2             ; flags.cmdline
        jz .no_cmdline
        mov esi, msg_cmdline
        call puts
        mov esi, [ebx + 16]
        call puts
.no_cmdline:
        test dword [ebx], 1 << 0             ; flags.mem_lower/mem_upper
        jz .no_mem
        mov esi, msg_mem
        call puts
        mov eax, [ebx + 8]                   ; mem_upper in KiB
        call put_decimal
        mov esi, msg_kib
        call puts
.no_mem:
        mov esi, msg_newline
        call puts
        mov esi, msg_marker
        call puts
        mov al, 0
        out EXIT_PORT, al                    ; ends a Ringside run with exit code 0
        jmp halt

.bad_magic:
        mov esi, msg_bad_magic
        call puts
        mov al, 1
        out EXIT_PORT, al
halt:
        hlt
        jmp halt

; COM1 at 115200 8N1, FIFOs on: a loader may have left it at any speed, and an emulator ignores the divisor anyway.
com1_init:
        mov dx, COM1 + 1
        xor al, al
        out dx, al                           ; IER: no interrupts
        mov dx, COM1 + 3
        mov al, 0x80
        out dx, al                           ; LCR: DLAB
        mov dx, COM1
        mov al, 1
        out dx, al                           ; divisor low: 115200
        mov dx, COM1 + 1
        xor al, al
        out dx, al                           ; divisor high
        mov dx, COM1 + 3
        mov al, 3
        out dx, al                           ; LCR: 8N1
        mov dx, COM1 + 2
        mov al, 0xC7
        out dx, al                           ; FCR: FIFOs on and cleared
        mov dx, COM1 + 4
        mov al, 3
        out dx, al                           ; MCR: DTR, RTS
        ret

; putc AL to 0xE9 and to COM1 (waiting for the transmitter holding register, with a bound so a missing UART
; cannot hang the kernel).
putc:
        push ecx
        push edx
        push eax
        out DEBUG_PORT, al
        mov ecx, 100000
        mov dx, COM1 + 5
.wait:  in al, dx
        test al, 0x20
        jnz .ready
        loop .wait
.ready: pop eax
        mov dx, COM1
        out dx, al
        pop edx
        pop ecx
        ret

; puts ESI: a NUL-terminated string.
puts:
        push eax
.next:  lodsb
        test al, al
        jz .done
        call putc
        jmp .next
.done:  pop eax
        ret

; put_decimal EAX, unsigned.
put_decimal:
        push ebx
        push ecx
        push edx
        mov ebx, 10
        xor ecx, ecx
.div:   xor edx, edx
        div ebx
        push edx
        inc ecx
        test eax, eax
        jnz .div
.out:   pop eax
        add al, '0'
        call putc
        loop .out
        pop edx
        pop ecx
        pop ebx
        ret

msg_hello:      db "ringside multiboot kernel:", 0
msg_magic_ok:   db " magic ok", 0
msg_bad_magic:  db " bad magic", 10, 0
msg_loader:     db " loader=", 0
msg_cmdline:    db " cmdline=", 0
msg_mem:        db " mem_upper=", 0
msg_kib:        db " KiB", 0
msg_newline:    db 10, 0
msg_marker:     db "RINGSIDE-MULTIBOOT-OK", 10, 0

load_end:
section .bss
alignb 4
boot_magic:     resd 1
boot_info:      resd 1
                resb 4096
stack_top:
bss_end:
