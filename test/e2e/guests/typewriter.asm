; Typewriter: the boot sector the Screen view's end-to-end test runs (test/e2e/screen.e2e.test.ts). It draws a
; title bar in white on blue, then echoes every key it reads through INT 16h with INT 10h teletype (Enter starts a
; new line), so keys typed in the Guest Screen view show on the guest's own screen. '@' switches to VBE mode 141h
; (800x600, 32 bpp, linear framebuffer: INT 10h 4F01h/4F02h as a boot loader does) and paints colour gradients
; through FS with a 4 GiB limit (unreal mode), then idles.
; Build: nasm -f bin -o typewriter.img typewriter.asm
bits 16
org 0x7C00
MODE_INFO equ 0x8000

start:  cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        mov ax, 0x0003                  ; 80x25 colour text, cleared
        int 0x10
        mov ax, 0xB800
        mov es, ax
        xor di, di
        mov ax, 0x1F20                  ; row 0: white on blue
        mov cx, 80
        rep stosw
        mov di, 2
        mov si, title
        mov ah, 0x1F
.title: lodsb
        test al, al
        jz .titled
        stosw
        jmp .title
.titled:
        xor ax, ax
        mov es, ax
        mov ah, 2                       ; cursor to row 2, column 0
        xor bh, bh
        mov dx, 0x0200
        int 0x10
        mov si, prompt
        call print
.key:   xor ah, ah
        int 0x16
        cmp al, '@'
        je graphics
        cmp al, 13
        jne .echo
        call putc
        mov si, prompt_after_enter
        call print
        jmp .key
.echo:  call putc
        jmp .key

putc:   mov ah, 0x0E
        mov bx, 0x0007
        int 0x10
        ret

print:  lodsb
        test al, al
        jz .done
        call putc
        jmp print
.done:  ret

graphics:
        mov ax, 0x4F01                  ; mode information: the framebuffer's address at +40
        mov cx, 0x141
        mov di, MODE_INFO
        int 0x10
        mov ax, 0x4F02
        mov bx, 0x4141                  ; mode 141h with the linear framebuffer
        int 0x10
        cli
        lgdt [gdtr]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        mov bx, 0x08
        mov fs, bx                      ; FS gets the 4 GiB limit of GDT entry 1 ...
        and al, 0xFE
        mov cr0, eax
        xor ax, ax
        mov fs, ax                      ; ... and keeps it back in real mode, with base 0
        sti
        mov edi, [MODE_INFO + 40]
        xor edx, edx                    ; y
.row:   xor ecx, ecx                    ; x
.px:    mov eax, ecx                    ; red grows to the right, green downwards
        shr eax, 2
        shl eax, 16
        mov ebx, edx
        shr ebx, 2
        shl ebx, 8
        or eax, ebx
        or al, 0x60
        mov [fs:edi], eax
        add edi, 4
        inc ecx
        cmp ecx, 800
        jb .px
        inc edx
        cmp edx, 600
        jb .row
.idle:  hlt
        jmp .idle

title:  db 'Ringside typewriter: keys typed in the Guest Screen view show here; @ = VBE', 0
prompt: db '> ', 0
prompt_after_enter:
        db 10, '> ', 0
        align 8
gdt:    dq 0
        dq 0x00CF92000000FFFF           ; data, base 0, limit 4 GiB
gdtr:   dw 15
        dd gdt

        times 510 - ($ - $$) db 0
        dw 0xAA55
