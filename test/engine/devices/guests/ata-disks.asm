; ata-disks: a boot sector that reads sector 0 of each of the four ATA positions by PIO (LBA28, interrupts off at
; the device with nIEN), printing its first four bytes on port E9h, or '----' for a position with no disk; then it
; writes a sector to the secondary slave, reads it back and prints its first four bytes. Exits through port F4h.
; Build: nasm -f bin ata-disks.asm -o ata-disks.bin   (run with --disk A --disk B --disk C)
        bits 16
        org 0x7C00

start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        mov dx, 0x3F6
        mov al, 0x02
        out dx, al
        mov dx, 0x376
        out dx, al
        mov si, positions
.next:  mov bx, [si]                    ; command block base
        test bx, bx
        jz .write
        mov ah, [si + 2]                ; device bit
        call read_sector
        add si, 3
        jmp .next
.write:
        ; secondary slave, LBA 0: fill the buffer with 'WRIT' and write it
        mov dword [buffer], 'WRIT'
        mov bx, 0x170
        mov ah, 0x10
        call select
        mov al, 0x30
        lea dx, [bx + 7]
        out dx, al
        call wait_drq
        jc .fail
        mov dx, bx
        mov cx, 256
        push si
        mov si, buffer
        rep outsw
        pop si
        mov dword [buffer], 0
        mov bx, 0x170
        mov ah, 0x10
        call read_sector
        xor al, al
        out 0xF4, al
.fail:  mov al, 1
        out 0xF4, al

; BX = base, AH = device bit (00h master, 10h slave): LBA 0, one sector, selected
select:
        lea dx, [bx + 6]
        mov al, 0xE0
        or al, ah
        out dx, al
        lea dx, [bx + 2]
        mov al, 1
        out dx, al
        xor al, al
        inc dx
        out dx, al
        inc dx
        out dx, al
        inc dx
        out dx, al
        ret

; CF set when the device reports ERR or no device answers (status 00h or FFh)
wait_drq:
        lea dx, [bx + 7]
        mov cx, 1000
.poll:  in al, dx
        cmp al, 0xFF
        je .none
        test al, 0x80
        jnz .again
        test al, 0x01
        jnz .none
        test al, 0x08
        jnz .ok
.again: loop .poll
.none:  stc
        ret
.ok:    clc
        ret

; BX = base, AH = device bit: prints the first four bytes of sector 0, or '----'
read_sector:
        push si
        call select
        mov al, 0x20
        lea dx, [bx + 7]
        out dx, al
        call wait_drq
        jc .absent
        mov dx, bx
        mov di, buffer
        mov cx, 256
        rep insw
        mov si, buffer
        mov cx, 4
.out:   lodsb
        out 0xE9, al
        loop .out
        jmp .done
.absent:
        mov al, '-'
        mov cx, 4
.dash:  out 0xE9, al
        loop .dash
.done:  mov al, ' '
        out 0xE9, al
        pop si
        ret

positions:
        dw 0x1F0
        db 0x00
        dw 0x1F0
        db 0x10
        dw 0x170
        db 0x00
        dw 0x170
        db 0x10
        dw 0

        times 510 - ($ - $$) db 0
        dw 0xAA55
buffer:
