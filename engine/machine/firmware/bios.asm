; Ringside built-in firmware: a small PC BIOS for booting a boot sector or disk image.
;
; Build: nasm -f bin -o bios.bin bios.asm   (then `node engine/machine/firmware/build-bios.mjs` refreshes the
; embedded copy in bios-image.ts; a test checks that both still match this source).
;
; The image is 64 KiB and sits at F000:0000 (and at FFFF0000, where the CPU fetches its first instruction).
; POST: clears the IVT and BDA, installs the services below, programs the PICs and the PIT as a PC BIOS leaves
; them, clears the text screen, identifies the disk on the ATA primary master, reads its sector 0 to 0000:7C00 and
; jumps there with DL = the BIOS drive number.
;
; Disk: every disk access goes through the ATA PIO registers (ports 1F0h-1F7h, 3F6h), polled with interrupts
; disabled at the device (nIEN). The drive is 80h (hard disk) unless IDENTIFY word 0 says "removable", which the
; machine sets for images of a standard floppy size: then it is drive 00h with the floppy's geometry, served by
; the same ATA device (there is no floppy controller model). The loader patches the memory size into the
; configuration block below; with an unpatched image (run as a plain ROM) it comes from CMOS 30h/31h, 34h/35h.
;
; Services: INT 10h (00h-03h, 05h-0Ah, 0Eh, 0Fh, 13h, 1Ah), INT 11h, INT 12h, INT 13h (00h-05h, 08h, 0Ch-11h,
; 14h-16h, 41h-44h, 47h, 48h), INT 15h (E820h, E801h, 88h, 2400h-2403h, C0h), INT 16h (00h-02h, 05h, 10h-12h),
; INT 18h, INT 19h, INT 1Ah (00h-05h), IRQ 0 (tick count) and IRQ 1 (scan code set 1 to the key buffer).
; Teletype output (INT 10h AH=0Eh and AH=13h) is also copied to the debug port E9h.

bits 16
cpu 486
org 0

BDA_SEG         equ 0x0040
E820_MAX        equ 16                  ; entries the configuration block holds
PLATFORM_TABLES_SIZE equ 1024
EBDA_SEG        equ 0x9FC0          ; 1 KiB at 9FC00h, reserved in the E820 map
VGA_SEG         equ 0xB800
DEBUG_PORT      equ 0xE9

; BDA offsets (segment 40h)
BDA_COM_PORTS   equ 0x00            ; 4 words: I/O base of COM1-COM4 (0 = absent)
BDA_LPT_PORTS   equ 0x08            ; 3 words: I/O base of LPT1-LPT3
BDA_EQUIPMENT   equ 0x10
BDA_MEM_KB      equ 0x13
BDA_SHIFT       equ 0x17
BDA_SHIFT2      equ 0x18
BDA_KBD_HEAD    equ 0x1A
BDA_KBD_TAIL    equ 0x1C
BDA_KBD_BUF     equ 0x1E
BDA_KBD_BUF_END equ 0x3E
BDA_EBDA        equ 0x0E
BDA_FD_STATUS   equ 0x41
BDA_VIDEO_MODE  equ 0x49
BDA_COLUMNS     equ 0x4A
BDA_PAGE_SIZE   equ 0x4C
BDA_CURSOR      equ 0x50            ; 8 words: column, row per page
BDA_CURSOR_SHAPE equ 0x60
BDA_ACTIVE_PAGE equ 0x62
BDA_CRTC_BASE   equ 0x63
BDA_TICKS       equ 0x6C
BDA_MIDNIGHT    equ 0x70
BDA_HD_STATUS   equ 0x74
BDA_HD_COUNT    equ 0x75
BDA_KBD_START   equ 0x80
BDA_KBD_END     equ 0x82
BDA_ROWS        equ 0x84
BDA_CHAR_HEIGHT equ 0x85
BDA_KBD_FLAGS3  equ 0x96            ; bit 4: 101/102-key keyboard installed

; EBDA offsets (segment 9FC0h): the firmware's own state
EB_SIZE_KB      equ 0x00
EB_DRIVE        equ 0x20            ; byte: BIOS drive number of the disk
EB_DISK_OK      equ 0x21            ; byte: 1 when IDENTIFY succeeded
EB_CYLS         equ 0x22            ; word
EB_HEADS        equ 0x24            ; word
EB_SPT          equ 0x26            ; word
EB_TOTAL        equ 0x28            ; dword: sectors
EB_MEMSIZE      equ 0x2C            ; dword: bytes of installed RAM
EB_DONE         equ 0x30            ; word: sectors moved by the current transfer
EB_DPT          equ 0x40            ; 11 bytes: diskette parameter table (INT 1Eh)
EB_VBE_MODE     equ 0x50            ; word: current VBE mode (0 = a VGA mode, see the BDA)
EB_IDENTIFY     equ 0x200           ; 512 bytes: IDENTIFY DEVICE data

; ATA primary channel
ATA_DATA        equ 0x1F0
ATA_ERROR       equ 0x1F1
ATA_COUNT       equ 0x1F2
ATA_LBA0        equ 0x1F3
ATA_LBA1        equ 0x1F4
ATA_LBA2        equ 0x1F5
ATA_DEVICE      equ 0x1F6
ATA_STATUS      equ 0x1F7
ATA_COMMAND     equ 0x1F7
ATA_CONTROL     equ 0x3F6
ATA_SR_BSY      equ 0x80
ATA_SR_DRQ      equ 0x08
ATA_SR_ERR      equ 0x01
ATA_ER_UNC      equ 0x40
ATA_ER_IDNF     equ 0x10
ATA_CMD_READ    equ 0x20
ATA_CMD_WRITE   equ 0x30
ATA_CMD_IDENTIFY equ 0xEC
ATA_NIEN        equ 0x02

; INT 13h status codes
DISK_OK         equ 0x00
DISK_EPARAM     equ 0x01
DISK_ENOTFOUND  equ 0x04
DISK_ECRC       equ 0x10
DISK_ECONTROLLER equ 0x20
DISK_ETIMEOUT   equ 0x80

; Service frame: every service handler starts with SERVICE_ENTRY, which saves the caller's registers so that the
; handler returns results by storing into them ([bp+R_xx]) and sets CF/ZF in the FLAGS image the INT pushed.
R_EDI   equ 0
R_DI    equ 0
R_ESI   equ 4
R_SI    equ 4
R_EBP   equ 8
R_EBX   equ 16
R_BX    equ 16
R_BL    equ 16
R_BH    equ 17
R_EDX   equ 20
R_DX    equ 20
R_DL    equ 20
R_DH    equ 21
R_ECX   equ 24
R_CX    equ 24
R_CL    equ 24
R_CH    equ 25
R_EAX   equ 28
R_AX    equ 28
R_AL    equ 28
R_AH    equ 29
R_GS    equ 32
R_FS    equ 34
R_ES    equ 36
R_DS    equ 38
R_FLAGS equ 44
FLAG_CF equ 0x01
FLAG_ZF equ 0x40

%macro SERVICE_ENTRY 0
        push ds
        push es
        push fs
        push gs
        pushad
        mov bp, sp
        cld
        push word BDA_SEG
        pop fs
        push word EBDA_SEG
        pop gs
%endmacro

%macro SET_CF 0
        or byte [bp+R_FLAGS], FLAG_CF
%endmacro
%macro CLEAR_CF 0
        and byte [bp+R_FLAGS], ~FLAG_CF & 0xFF
%endmacro

; ---------------------------------------------------------------------------------------------------------------
; Configuration block, patched by the loader (engine/machine/firmware/index.ts finds it by its signature).
        jmp post                        ; F000:0000, never executed by the reset path
        align 16
config_block:
        db 'RSCF'
config_memsize:
        dd 0                            ; installed RAM in bytes; 0 = ask the CMOS
config_e820_count:
        dw 0                            ; entries below; 0 = the fixed map in e820_fixed_entry
config_e820:
        times E820_MAX * 20 db 0        ; the machine's memory map, in the 20-byte E820 format
config_flags:
        dd 0                            ; CONFIG_PRELOADED: see below
; The loader has already put the boot code at 0000:7C00 (the Linux loader's jump into the kernel's real-mode setup,
; as QEMU's linuxboot option ROM does after SeaBIOS's POST): POST jumps there without reading sector 0, with or
; without a disk.
CONFIG_PRELOADED equ 1
        align 16
; Platform tables (MP floating pointer and configuration table, ACPI RSDP) written here by the loader
; (engine/machine/firmware/platform-tables.ts): they must lie in F0000h-FFFFFh on a 16-byte boundary.
platform_tables:
        db 'RSTB'
        times PLATFORM_TABLES_SIZE - 4 db 0

; ---------------------------------------------------------------------------------------------------------------
; POST
post:
        cli
        cld
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ds, ax
        mov es, ax

        ; IVT and BDA (0000:0000-0000:04FF) start as zeros.
        xor di, di
        mov cx, 0x500 / 2
        rep stosw
        ; Every vector gets the default handler, then the table below overrides some.
        xor di, di
        mov cx, 256
.ivt:   mov word [di], default_handler
        mov word [di+2], cs
        add di, 4
        loop .ivt
        mov si, vector_table
.vec:   mov al, [cs:si]
        cmp al, 0xFF
        je .vec_done
        movzx di, al
        shl di, 2
        mov ax, [cs:si+1]
        mov [di], ax
        mov [di+2], cs
        add si, 3
        jmp .vec
.vec_done:
        mov cx, 8
        mov di, 0x70 * 4
.slave: mov word [di], irq_slave_handler
        add di, 4
        loop .slave
        mov di, 0x0A * 4
        mov cx, 6                       ; IRQ 2-7
.master:
        mov word [di], irq_master_handler
        add di, 4
        loop .master

        ; EBDA
        push word EBDA_SEG
        pop gs
        push word BDA_SEG
        pop fs
        mov ax, EBDA_SEG
        mov es, ax
        xor di, di
        xor ax, ax
        mov cx, 512
        rep stosw
        mov byte [gs:EB_SIZE_KB], 1
        call detect_memory
        mov [gs:EB_MEMSIZE], eax

        ; BDA
        mov word [fs:BDA_EBDA], EBDA_SEG
        mov word [fs:BDA_MEM_KB], EBDA_SEG / 64
        mov word [fs:BDA_EQUIPMENT], 0x0020     ; 80x25 colour, no FPU
        mov word [fs:BDA_KBD_HEAD], BDA_KBD_BUF
        mov word [fs:BDA_KBD_TAIL], BDA_KBD_BUF
        mov word [fs:BDA_KBD_START], BDA_KBD_BUF
        mov word [fs:BDA_KBD_END], BDA_KBD_BUF_END
        mov byte [fs:BDA_KBD_FLAGS3], 0x10
        call detect_ports

        call init_pic_pit
        call kbc_init
        call video_init
        call disk_init
        jnc boot
        test byte [cs:config_flags], CONFIG_PRELOADED
        jnz boot
.no_disk:
        mov si, msg_no_disk
        call print_string
        jmp halt_forever

; Vectors with their own handler: vector byte, handler offset. Ends with FFh.
vector_table:
        db 0x08
        dw irq0_handler
        db 0x09
        dw irq1_handler
        db 0x10
        dw int10_handler
        db 0x11
        dw int11_handler
        db 0x12
        dw int12_handler
        db 0x13
        dw int13_handler
        db 0x15
        dw int15_handler
        db 0x16
        dw int16_handler
        db 0x18
        dw int18_handler
        db 0x19
        dw int19_handler
        db 0x1A
        dw int1a_handler
        db 0xFF

; PIC 1 at vectors 08h-0Fh, PIC 2 at 70h-77h (ICW1-ICW4, 8259A data sheet); only IRQ 0, 1 and the cascade
; unmasked. PIT channel 0 in mode 3 with divisor 65536: 18.2 ticks a second. Unclaimed ports ignore all of it.
init_pic_pit:
        mov al, 0x11
        out 0x20, al
        out 0xA0, al
        mov al, 0x08
        out 0x21, al
        mov al, 0x70
        out 0xA1, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01
        out 0x21, al
        out 0xA1, al
        mov al, 0xF8
        out 0x21, al
        mov al, 0xFF
        out 0xA1, al
        mov al, 0x36
        out 0x43, al
        xor al, al
        out 0x40, al
        out 0x40, al
        ret

; 8042 keyboard controller, when there is one (port 64h does not float at FFh): command byte 65h = IRQ 1 on,
; system flag, mouse port off, keyboard codes translated to scan code set 1 (what the IRQ 1 handler decodes).
kbc_init:
        in al, 0x64
        cmp al, 0xFF
        je .none
        call kbc_wait_input
        mov al, 0x60                    ; write command byte
        out 0x64, al
        call kbc_wait_input
        mov al, 0x65
        out 0x60, al
.none:  ret

; Waits (bounded) until the controller's input buffer is empty (status bit 1).
kbc_wait_input:
        push cx
        mov cx, 0xFFFF
.l:     in al, 0x64
        test al, 0x02
        jz .d
        loop .l
.d:     pop cx
        ret

; Serial and parallel ports as a PC BIOS finds them: a 16550's scratch register (base+7) keeps what is written
; to it, a parallel port's data latch (base) reads back; a port that is absent floats at FFh. The BDA lists the
; ports found in order, and the equipment word counts them (bits 9-11 serial, 14-15 parallel).
detect_ports:
        mov si, com_candidates
        xor bx, bx                      ; BDA slot offset
.com:   mov dx, [cs:si]
        test dx, dx
        jz .lpt_start
        add dx, 7
        mov al, 0x5A
        out dx, al
        in al, dx
        cmp al, 0x5A
        jne .com_next
        mov al, 0xA5
        out dx, al
        in al, dx
        cmp al, 0xA5
        jne .com_next
        mov ax, [cs:si]
        mov [fs:BDA_COM_PORTS + bx], ax
        add bx, 2
        add word [fs:BDA_EQUIPMENT], 0x0200
.com_next:
        add si, 2
        jmp .com
.lpt_start:
        mov si, lpt_candidates
        xor bx, bx
.lpt:   mov dx, [cs:si]
        test dx, dx
        jz .done
        mov al, 0x5A
        out dx, al
        in al, dx
        cmp al, 0x5A
        jne .lpt_next
        mov ax, dx
        mov [fs:BDA_LPT_PORTS + bx], ax
        add bx, 2
        add word [fs:BDA_EQUIPMENT], 0x4000
.lpt_next:
        add si, 2
        jmp .lpt
.done:  ret
com_candidates: dw 0x3F8, 0x2F8, 0x3E8, 0x2E8, 0
lpt_candidates: dw 0x3BC, 0x378, 0x278, 0

; Out: EAX = bytes of installed RAM (from the configuration block, else CMOS, else 1 MiB).
detect_memory:
        mov eax, [cs:config_memsize]
        test eax, eax
        jnz .done
        mov al, 0x31
        call cmos_read
        mov ah, al
        mov al, 0x30
        call cmos_read                  ; AX = KiB above 1 MiB (up to 64 MiB)
        cmp ax, 0xFFFF
        je .none
        movzx eax, ax
        shl eax, 10
        add eax, 0x100000
        push eax
        mov al, 0x35
        call cmos_read
        mov ah, al
        mov al, 0x34
        call cmos_read                  ; AX = 64 KiB blocks above 16 MiB
        movzx edx, ax
        pop eax
        test edx, edx
        jz .done
        shl edx, 16
        lea eax, [edx + 0x1000000]
        jmp .done
.none:  mov eax, 0x100000
.done:  ret

; In: AL = register. Out: AL = value (FFh when there is no CMOS).
cmos_read:
        out 0x70, al
        in al, 0x71
        ret

halt_forever:
        cli
        hlt
        jmp halt_forever

; In: CS:SI = NUL-terminated message. Printed through the teletype.
print_string:
        push ax
        push si
.l:     mov al, [cs:si]
        test al, al
        jz .d
        call tty_putc
        inc si
        jmp .l
.d:     pop si
        pop ax
        ret

msg_no_disk     db 'Ringside BIOS: no disk on the ATA primary master', 13, 10, 0
msg_read_error  db 'Ringside BIOS: cannot read the boot sector', 13, 10, 0
msg_not_boot    db 'Ringside BIOS: the boot sector has no 55 AA signature', 13, 10, 0
msg_no_boot     db 'Ringside BIOS: no bootable device', 13, 10, 0

; ---------------------------------------------------------------------------------------------------------------
; Boot: sector 0 to 0000:7C00, then jump there with DL = drive. Also INT 19h.
boot:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        push word BDA_SEG
        pop fs
        push word EBDA_SEG
        pop gs
        mov es, ax
        test byte [cs:config_flags], CONFIG_PRELOADED
        jnz .go
        mov di, 0x7C00
        xor eax, eax
        mov cx, 1
        mov bl, ATA_CMD_READ
        call disk_transfer
        jnc .read
        mov si, msg_read_error
        call print_string
        jmp halt_forever
.read:  cmp word [es:0x7DFE], 0xAA55
        je .go
        mov si, msg_not_boot
        call print_string
        jmp halt_forever
.go:    xor ax, ax
        mov ds, ax
        mov es, ax
        mov fs, ax
        xor ebx, ebx
        xor ecx, ecx
        xor esi, esi
        xor edi, edi
        xor ebp, ebp
        movzx edx, byte [gs:EB_DRIVE]
        mov gs, ax
        xor eax, eax
        sti
        jmp 0x0000:0x7C00

int19_handler:
        jmp boot

int18_handler:
        mov si, msg_no_boot
        call print_string
        jmp halt_forever

default_handler:
        iret

int11_handler:
        push ds
        push word BDA_SEG
        pop ds
        mov ax, [BDA_EQUIPMENT]
        pop ds
        iret

int12_handler:
        push ds
        push word BDA_SEG
        pop ds
        mov ax, [BDA_MEM_KB]
        pop ds
        iret

; ---------------------------------------------------------------------------------------------------------------
; Hardware interrupts
irq0_handler:
        push ds
        push eax
        push word BDA_SEG
        pop ds
        inc dword [BDA_TICKS]
        cmp dword [BDA_TICKS], 0x1800B0 ; ticks in 24 hours
        jb .eoi
        mov dword [BDA_TICKS], 0
        mov byte [BDA_MIDNIGHT], 1
.eoi:   int 0x1C
        mov al, 0x20
        out 0x20, al
        pop eax
        pop ds
        iret

irq_master_handler:
        push ax
        mov al, 0x20
        out 0x20, al
        pop ax
        iret

irq_slave_handler:
        push ax
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop ax
        iret

; Keyboard: scan code set 1 make codes become (scan << 8 | ASCII) in the BDA buffer; shift, ctrl and alt are
; tracked in the shift flags.
irq1_handler:
        push ds
        push ax
        push bx
        push word BDA_SEG
        pop ds
        in al, 0x60
        mov bl, al
        and bl, 0x7F
        mov ah, 0x02                    ; left shift
        cmp bl, 0x2A
        je .mod
        mov ah, 0x01                    ; right shift
        cmp bl, 0x36
        je .mod
        mov ah, 0x04                    ; ctrl
        cmp bl, 0x1D
        je .mod
        mov ah, 0x08                    ; alt
        cmp bl, 0x38
        je .mod
        test al, 0x80
        jnz .eoi                        ; other break codes
        mov ah, al
        xor al, al
        cmp ah, scancode_count
        jae .store
        movzx bx, ah
        test byte [BDA_SHIFT], 0x03
        jz .plain
        mov al, [cs:scancode_shifted + bx]
        jmp .store
.plain: mov al, [cs:scancode_plain + bx]
.store: call kbd_buffer_put
        jmp .eoi
.mod:   test al, 0x80
        jnz .release
        or [BDA_SHIFT], ah
        jmp .eoi
.release:
        not ah
        and [BDA_SHIFT], ah
.eoi:   mov al, 0x20
        out 0x20, al
        pop bx
        pop ax
        pop ds
        iret

; In: AX = key, DS = BDA. Out: CF set when the buffer is full.
kbd_buffer_put:
        push bx
        push si
        mov bx, [BDA_KBD_TAIL]
        mov si, bx
        add si, 2
        cmp si, [BDA_KBD_END]
        jb .nowrap
        mov si, [BDA_KBD_START]
.nowrap:
        cmp si, [BDA_KBD_HEAD]
        je .full
        mov [bx], ax
        mov [BDA_KBD_TAIL], si
        clc
        jmp .done
.full:  stc
.done:  pop si
        pop bx
        ret

scancode_plain:
        db 0, 27, '1234567890-=', 8, 9, 'qwertyuiop[]', 13, 0, 'asdfghjkl;', 39, '`', 0, '\', 'zxcvbnm,./', 0, '*', 0, ' '
scancode_count equ $ - scancode_plain
scancode_shifted:
        db 0, 27, '!@#$%^&*()_+', 8, 9, 'QWERTYUIOP{}', 13, 0, 'ASDFGHJKL:"~', 0, '|', 'ZXCVBNM<>?', 0, '*', 0, ' '

; ---------------------------------------------------------------------------------------------------------------
; INT 10h: video (80x25 text, page 0 drawn)
video_init:
        mov byte [fs:BDA_VIDEO_MODE], 3
        mov word [fs:BDA_COLUMNS], 80
        mov word [fs:BDA_PAGE_SIZE], 80 * 25 * 2
        mov word [fs:BDA_CURSOR_SHAPE], 0x0607
        mov word [fs:BDA_CRTC_BASE], 0x3D4
        mov byte [fs:BDA_ROWS], 24
        mov byte [fs:BDA_CHAR_HEIGHT], 16
        call clear_screen
        ret

; Fills the screen with blanks on light grey and homes the cursor.
clear_screen:
        push es
        push ax
        push cx
        push di
        push word VGA_SEG
        pop es
        xor di, di
        mov ax, 0x0720
        mov cx, 80 * 25
        rep stosw
        mov word [fs:BDA_CURSOR], 0
        call sync_cursor
        pop di
        pop cx
        pop ax
        pop es
        ret

; Moves the hardware cursor (CRTC registers 0Eh/0Fh) to the page 0 cursor.
sync_cursor:
        push ax
        push dx
        call cursor_offset
        shr ax, 1
        push ax
        mov dx, 0x3D4
        mov al, 0x0E
        out dx, al
        inc dx
        pop ax
        push ax
        mov al, ah
        out dx, al
        dec dx
        mov al, 0x0F
        out dx, al
        inc dx
        pop ax
        out dx, al
        pop dx
        pop ax
        ret

; Out: AX = byte offset of the page 0 cursor in video memory.
cursor_offset:
        push dx
        mov al, [fs:BDA_CURSOR + 1]     ; row
        mov dl, 80
        mul dl
        movzx dx, byte [fs:BDA_CURSOR]  ; column
        add ax, dx
        shl ax, 1
        pop dx
        ret

; In: AL = character. Teletype output: to the debug port, then to the screen (CR, LF, BS, BEL handled).
tty_putc:
        push bx
        xor bh, bh                      ; keep the attribute in video memory
        call tty_emit
        pop bx
        ret

; In: AL = character, BL = attribute, BH = 1 to write the attribute, 0 to keep the cell's.
tty_emit:
        push ax
        push cx
        push dx
        push di
        push es
        push fs
        push word BDA_SEG
        pop fs
        out DEBUG_PORT, al
        mov dx, [fs:BDA_CURSOR]         ; DL = column, DH = row
        cmp al, 13
        je .cr
        cmp al, 10
        je .lf
        cmp al, 8
        je .bs
        cmp al, 7
        je .done
        push ax
        call cursor_offset
        mov di, ax
        pop ax
        push word VGA_SEG
        pop es
        mov [es:di], al
        test bh, bh
        jz .noattr
        mov [es:di+1], bl
.noattr:
        inc dl
        cmp dl, 80
        jb .store
        xor dl, dl
        jmp .lf
.cr:    xor dl, dl
        jmp .store
.bs:    test dl, dl
        jz .store
        dec dl
        jmp .store
.lf:    inc dh
        cmp dh, 25
        jb .store
        mov dh, 24
        push dx
        push bx
        push si
        mov al, 1
        mov bh, 0x07
        xor cx, cx
        mov dx, 0x184F
        xor si, si
        call scroll_window
        pop si
        pop bx
        pop dx
.store: mov [fs:BDA_CURSOR], dx
        call sync_cursor
.done:  pop fs
        pop es
        pop di
        pop dx
        pop cx
        pop ax
        ret

; Scrolls a window of page 0. In: AL = lines (0 = blank the window), BH = fill attribute, CH/CL = top row/left
; column, DH/DL = bottom row/right column, SI = 0 up, 1 down.
scroll_window:
        pushad
        push ds
        push es
        push word VGA_SEG
        pop es
        push word VGA_SEG
        pop ds
        cmp dh, 24
        jbe .r_ok
        mov dh, 24
.r_ok:  cmp dl, 79
        jbe .c_ok
        mov dl, 79
.c_ok:  cmp ch, dh
        ja .out
        cmp cl, dl
        ja .out
        movzx ebx, bh
        shl ebx, 16                     ; fill attribute kept in the high word of EBX
        movzx bp, dh
        movzx di, ch
        sub bp, di
        inc bp                          ; BP = window height
        movzx di, al
        test di, di
        jz .all
        cmp di, bp
        jbe .count_ok
.all:   mov di, bp
.count_ok:
        ; Per row r of the window (walking from the edge the text moves towards): source row r+n (up) or r-n
        ; (down) is copied if it lies in the window, else the row is blanked.
        mov ax, di                      ; AX = n
        movzx bx, ch                    ; BX = current row
        test si, si
        jz .loop
        movzx bx, dh
.loop:
        push ax
        push cx
        push dx
        push si
        mov di, bx                      ; destination row
        test si, si
        jnz .down
        add ax, bx                      ; source row (up)
        movzx si, dh
        cmp ax, si
        ja .blank
        jmp .copy
.down:  mov si, bx
        sub si, ax
        movzx ax, ch
        cmp si, ax
        jl .blank
        mov ax, si
.copy:  ; copy row AX to row DI, columns CL..DL
        movzx si, dl
        movzx dx, cl
        sub si, dx
        inc si
        push si                         ; width
        imul si, ax, 80
        add si, dx
        shl si, 1
        imul di, di, 80
        add di, dx
        shl di, 1
        pop cx
        rep movsw
        jmp .next
.blank: movzx si, dl
        movzx dx, cl
        sub si, dx
        inc si
        imul di, di, 80
        add di, dx
        shl di, 1
        mov cx, si
        mov eax, ebx
        shr eax, 8
        mov al, ' '
        rep stosw
.next:  pop si
        pop dx
        pop cx
        pop ax
        test si, si
        jnz .prev
        inc bx
        movzx di, dh
        cmp bx, di
        jbe .loop
        jmp .out
.prev:  dec bx
        movzx di, ch
        cmp bx, di
        jge .loop
.out:   pop es
        pop ds
        popad
        ret

int10_handler:
        SERVICE_ENTRY
        mov al, [bp+R_AH]
        cmp al, 0x00
        je v_set_mode
        cmp al, 0x01
        je v_cursor_shape
        cmp al, 0x02
        je v_set_cursor
        cmp al, 0x03
        je v_get_cursor
        cmp al, 0x05
        je v_set_page
        cmp al, 0x06
        je v_scroll_up
        cmp al, 0x07
        je v_scroll_down
        cmp al, 0x08
        je v_read_cell
        cmp al, 0x09
        je v_write_cell
        cmp al, 0x0A
        je v_write_char
        cmp al, 0x0E
        je v_teletype
        cmp al, 0x0F
        je v_get_mode
        cmp al, 0x13
        je v_write_string
        cmp al, 0x1A
        je v_display_combination
        cmp al, 0x4F
        je vbe_service
service_exit:
        popad
        pop gs
        pop fs
        pop es
        pop ds
        iret

v_set_mode:
        call vbe_disable
        call v_set_mode_inner
        jmp service_exit

; AL in the service frame = the mode (bit 7: keep the screen contents)
v_set_mode_inner:
        mov al, [bp+R_AL]
        and al, 0x7F
        mov [fs:BDA_VIDEO_MODE], al
        mov byte [fs:BDA_ACTIVE_PAGE], 0
        test byte [bp+R_AL], 0x80
        jnz .keep
        jmp clear_screen                ; returns to our caller
.keep:  mov word [fs:BDA_CURSOR], 0
        jmp sync_cursor

v_cursor_shape:
        mov ax, [bp+R_CX]
        mov [fs:BDA_CURSOR_SHAPE], ax
        jmp service_exit

v_set_cursor:
        movzx bx, byte [bp+R_BH]
        and bx, 7
        shl bx, 1
        mov ax, [bp+R_DX]
        mov [fs:BDA_CURSOR + bx], ax
        call sync_cursor
        jmp service_exit

v_get_cursor:
        movzx bx, byte [bp+R_BH]
        and bx, 7
        shl bx, 1
        mov ax, [fs:BDA_CURSOR + bx]
        mov [bp+R_DX], ax
        mov ax, [fs:BDA_CURSOR_SHAPE]
        mov [bp+R_CX], ax
        jmp service_exit

v_set_page:
        mov al, [bp+R_AL]
        and al, 7
        mov [fs:BDA_ACTIVE_PAGE], al
        jmp service_exit

v_scroll_up:
        xor si, si
        jmp v_scroll
v_scroll_down:
        mov si, 1
v_scroll:
        mov al, [bp+R_AL]
        mov bh, [bp+R_BH]
        mov cx, [bp+R_CX]
        mov dx, [bp+R_DX]
        call scroll_window
        jmp service_exit

v_read_cell:
        call cursor_offset
        mov si, ax
        push word VGA_SEG
        pop es
        mov ax, [es:si]
        mov [bp+R_AX], ax
        jmp service_exit

; AH=09h: character and attribute CX times at the cursor; AH=0Ah: character only. The cursor does not move.
v_write_cell:
        mov bh, 1
        jmp v_write_n
v_write_char:
        xor bh, bh
v_write_n:
        call cursor_offset
        mov di, ax
        push word VGA_SEG
        pop es
        mov al, [bp+R_AL]
        mov bl, [bp+R_BL]
        mov cx, [bp+R_CX]
        jcxz .d
.l:     cmp di, 80 * 25 * 2
        jae .d
        mov [es:di], al
        test bh, bh
        jz .n
        mov [es:di+1], bl
.n:     add di, 2
        loop .l
.d:     jmp service_exit

v_teletype:
        mov al, [bp+R_AL]
        call tty_putc
        jmp service_exit

v_get_mode:
        mov al, [fs:BDA_VIDEO_MODE]
        mov ah, [fs:BDA_COLUMNS]
        mov [bp+R_AX], ax
        mov al, [fs:BDA_ACTIVE_PAGE]
        mov [bp+R_BH], al
        jmp service_exit

; AH=13h: write string ES:BP, CX characters, at row DH column DL. AL bit 0: move the cursor; bit 1: the string
; alternates characters and attributes (else BL is the attribute).
v_write_string:
        mov ax, [fs:BDA_CURSOR]
        push ax
        mov ax, [bp+R_DX]
        mov [fs:BDA_CURSOR], ax
        mov es, [bp+R_ES]
        mov si, [bp+R_EBP]
        mov cx, [bp+R_CX]
        mov bl, [bp+R_BL]
        mov bh, 1
        jcxz .end
.l:     mov al, [es:si]
        inc si
        test byte [bp+R_AL], 2
        jz .put
        mov bl, [es:si]
        inc si
.put:   call tty_emit
        loop .l
.end:   pop ax
        test byte [bp+R_AL], 1
        jnz .moved
        mov [fs:BDA_CURSOR], ax
        call sync_cursor
.moved: jmp service_exit

v_display_combination:
        cmp byte [bp+R_AL], 0
        jne .d
        mov byte [bp+R_AL], 0x1A
        mov word [bp+R_BX], 0x0008      ; VGA with colour display
.d:     jmp service_exit

; ---------------------------------------------------------------------------------------------------------------
; INT 13h: disk services, all through the ATA primary master

; Identifies the disk and records its drive number and geometry. Out: CF set when there is no usable disk.
disk_init:
        mov dx, ATA_CONTROL
        mov al, ATA_NIEN
        out dx, al
        mov dx, ATA_DEVICE
        mov al, 0xA0
        out dx, al
        mov dx, ATA_STATUS
        in al, dx
        cmp al, 0xFF                    ; floating bus: no controller
        je .fail
        mov al, ATA_CMD_IDENTIFY
        out dx, al
        call ata_wait_drq
        jc .fail
        push word EBDA_SEG
        pop es
        mov di, EB_IDENTIFY
        mov dx, ATA_DATA
        mov cx, 256
        rep insw
        mov ax, [gs:EB_IDENTIFY + 1 * 2]
        mov [gs:EB_CYLS], ax
        mov ax, [gs:EB_IDENTIFY + 3 * 2]
        mov [gs:EB_HEADS], ax
        mov ax, [gs:EB_IDENTIFY + 6 * 2]
        mov [gs:EB_SPT], ax
        mov eax, [gs:EB_IDENTIFY + 60 * 2]
        mov [gs:EB_TOTAL], eax
        test eax, eax
        jz .fail
        mov byte [gs:EB_DISK_OK], 1
        test byte [gs:EB_IDENTIFY], 0x80 ; word 0 bit 7: removable media
        jz .hard
        mov byte [gs:EB_DRIVE], 0x00
        or word [fs:BDA_EQUIPMENT], 0x0001 ; one diskette drive
        ; Diskette parameter table (INT 1Eh) with this disk's sectors per track.
        mov si, dpt_template
        mov di, EB_DPT
        mov cx, 11
.dpt:   mov al, [cs:si]
        mov [gs:di], al
        inc si
        inc di
        loop .dpt
        mov al, [gs:EB_SPT]
        mov [gs:EB_DPT + 4], al
        xor ax, ax
        mov es, ax
        mov word [es:0x1E * 4], EB_DPT
        mov word [es:0x1E * 4 + 2], EBDA_SEG
        clc
        ret
.hard:  mov byte [gs:EB_DRIVE], 0x80
        mov byte [fs:BDA_HD_COUNT], 1
        clc
        ret
.fail:  stc
        ret

dpt_template    db 0xAF, 0x02, 0x25, 0x02, 18, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08

; Waits until BSY clears. Out: AL = status; CF set on timeout.
ata_wait_ready:
        push ecx
        push dx
        mov ecx, 0x100000
        mov dx, ATA_STATUS
.l:     in al, dx
        test al, ATA_SR_BSY
        jz .ok
        dec ecx
        jnz .l
        stc
        jmp .d
.ok:    clc
.d:     pop dx
        pop ecx
        ret

; Waits for a data transfer request. Out: CF clear when DRQ is set; else CF set and AH = INT 13h status.
ata_wait_drq:
        call ata_wait_ready
        jc .timeout
        test al, ATA_SR_ERR
        jnz ata_error_status
        test al, ATA_SR_DRQ
        jz .noreq
        clc
        ret
.timeout:
        mov ah, DISK_ETIMEOUT
        stc
        ret
.noreq: mov ah, DISK_ECONTROLLER
        stc
        ret

; Maps the ATA error register to an INT 13h status in AH; sets CF.
ata_error_status:
        push dx
        mov dx, ATA_ERROR
        in al, dx
        pop dx
        mov ah, DISK_ENOTFOUND
        test al, ATA_ER_IDNF
        jnz .d
        mov ah, DISK_ECRC
        test al, ATA_ER_UNC
        jnz .d
        mov ah, DISK_ECONTROLLER
.d:     stc
        ret

; Issues a one-sector command. In: EAX = LBA (28 bits), BL = command.
ata_issue:
        push eax
        push dx
        push eax
        mov dx, ATA_DEVICE
        shr eax, 24
        and al, 0x0F
        or al, 0xE0                     ; LBA, device 0
        out dx, al
        mov dx, ATA_COUNT
        mov al, 1
        out dx, al
        pop eax
        mov dx, ATA_LBA0
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        shr eax, 8
        inc dx
        out dx, al
        mov dx, ATA_COMMAND
        mov al, bl
        out dx, al
        pop dx
        pop eax
        ret

; Moves CX sectors between the disk (from LBA EAX) and ES:DI, one ATA command per sector; the buffer advances by
; segment so transfers may exceed 64 KiB. BL = ATA_CMD_READ or ATA_CMD_WRITE. GS = EBDA.
; Out: CF clear and AH = 0, or CF set and AH = INT 13h status; [gs:EB_DONE] = sectors moved. Keeps ES, DI.
disk_transfer:
        push es
        push di
        push eax
        push cx
        push dx
        push si
        mov word [gs:EB_DONE], 0
        ; normalise ES:DI so that DI < 16
        mov dx, di
        shr dx, 4
        mov si, es
        add si, dx
        mov es, si
        and di, 0x0F
.next:  cmp [gs:EB_DONE], cx
        jae .ok
        cmp eax, [gs:EB_TOTAL]
        jae .range
        call ata_issue
        push ax
        call ata_wait_drq
        jc .fail_pop
        pop ax
        push cx
        mov dx, ATA_DATA
        mov cx, 256
        cmp bl, ATA_CMD_WRITE
        je .write
        rep insw
        sub di, 512
        jmp .moved
.write: push ds
        push si
        push es
        pop ds
        mov si, di
        rep outsw
        pop si
        pop ds
        push ax
        call ata_wait_ready
        jc .wfail
        test al, ATA_SR_ERR
        jnz .werr
        pop ax
.moved: pop cx
        mov dx, es
        add dx, 512 / 16
        mov es, dx
        inc word [gs:EB_DONE]
        inc eax
        jmp .next
.wfail: pop ax
        pop cx
        mov ah, DISK_ETIMEOUT
        jmp .err
.werr:  call ata_error_status
        mov dl, ah
        pop ax
        pop cx
        mov ah, dl
        jmp .err
.fail_pop:
        mov dl, ah
        pop ax
        mov ah, dl
        jmp .err
.range: mov ah, DISK_ENOTFOUND
.err:   pop si
        pop dx
        pop cx
        mov [gs:EB_DONE + 2], ah        ; keep the status across the pops
        pop eax
        mov ah, [gs:EB_DONE + 2]
        pop di
        pop es
        stc
        ret
.ok:    pop si
        pop dx
        pop cx
        pop eax
        pop di
        pop es
        xor ah, ah
        clc
        ret

int13_handler:
        SERVICE_ENTRY
        mov ah, [bp+R_AH]
        mov dl, [bp+R_DL]
        cmp ah, 0x15
        je d_get_type                   ; answers for absent drives too
        cmp byte [gs:EB_DISK_OK], 1
        jne .baddrive
        cmp dl, [gs:EB_DRIVE]
        jne .baddrive
        cmp ah, 0x00
        je d_success
        cmp ah, 0x01
        je d_last_status
        cmp ah, 0x02
        je d_read_chs
        cmp ah, 0x03
        je d_write_chs
        cmp ah, 0x04
        je d_verify_chs
        cmp ah, 0x08
        je d_get_params
        cmp ah, 0x0C                    ; seek
        je d_success
        cmp ah, 0x0D                    ; alternate reset
        je d_success
        cmp ah, 0x10                    ; test unit ready
        je d_success
        cmp ah, 0x11                    ; recalibrate
        je d_success
        cmp ah, 0x14                    ; controller diagnostic
        je d_success
        cmp ah, 0x16                    ; diskette change line: not changed
        je d_success
        cmp ah, 0x41
        je d_ext_check
        cmp ah, 0x42
        je d_ext_read
        cmp ah, 0x43
        je d_ext_write
        cmp ah, 0x44
        je d_ext_verify
        cmp ah, 0x47                    ; extended seek
        je d_success
        cmp ah, 0x48
        je d_ext_params
.baddrive:
        mov ah, DISK_EPARAM
        jmp d_fail

; Exit paths: AH = status, remembered for AH=01h in the BDA.
d_success:
        xor ah, ah
d_done:
        mov [bp+R_AH], ah
        call d_store_status
        test ah, ah
        jnz .f
        CLEAR_CF
        jmp service_exit
.f:     SET_CF
        jmp service_exit
d_fail:
        jmp d_done

d_store_status:
        cmp byte [bp+R_DL], 0x80
        jae .hd
        mov [fs:BDA_FD_STATUS], ah
        ret
.hd:    mov [fs:BDA_HD_STATUS], ah
        ret

d_last_status:
        cmp byte [bp+R_DL], 0x80
        jae .hd
        mov ah, [fs:BDA_FD_STATUS]
        jmp .d
.hd:    mov ah, [fs:BDA_HD_STATUS]
.d:     mov [bp+R_AL], ah
        jmp d_done

; In: frame CX/DH = cylinder, sector, head. Out: EAX = LBA, CF set (AH = status) when outside the geometry.
chs_to_lba:
        movzx eax, byte [bp+R_CL]
        and al, 0x3F                    ; sector
        jz .bad
        cmp ax, [gs:EB_SPT]
        ja .bad
        dec ax
        movzx ecx, byte [bp+R_CH]
        movzx edx, byte [bp+R_CL]
        and dl, 0xC0
        shl edx, 2
        or ecx, edx                     ; cylinder
        cmp cx, [gs:EB_CYLS]
        jae .bad
        movzx edx, byte [bp+R_DH]       ; head
        cmp dx, [gs:EB_HEADS]
        jae .bad
        push eax
        movzx eax, word [gs:EB_HEADS]
        imul ecx, eax
        add ecx, edx
        movzx eax, word [gs:EB_SPT]
        imul ecx, eax
        pop eax
        add eax, ecx
        clc
        ret
.bad:   mov ah, DISK_ENOTFOUND
        stc
        ret

d_read_chs:
        mov bl, ATA_CMD_READ
        jmp d_chs
d_write_chs:
        mov bl, ATA_CMD_WRITE
d_chs:  movzx cx, byte [bp+R_AL]
        mov ah, DISK_EPARAM
        jcxz .fail
        push cx
        call chs_to_lba
        pop cx
        jc .fail
        mov es, [bp+R_ES]
        mov di, [bp+R_BX]
        call disk_transfer
        mov dl, [gs:EB_DONE]
        mov [bp+R_AL], dl
        jmp d_done
.fail:  mov byte [bp+R_AL], 0
        jmp d_fail

; AH=04h: succeeds when every sector lies on the disk.
d_verify_chs:
        movzx cx, byte [bp+R_AL]
        mov ah, DISK_EPARAM
        jcxz .fail
        push cx
        call chs_to_lba
        pop cx
        jc .fail
        movzx ecx, cx
        add eax, ecx
        cmp eax, [gs:EB_TOTAL]
        mov ah, DISK_ENOTFOUND
        ja .fail
        jmp d_success
.fail:  mov byte [bp+R_AL], 0
        jmp d_fail

; AH=08h: CH = max cylinder (low 8 bits), CL = sectors | cylinder bits 8-9 << 6, DH = max head, DL = drives.
d_get_params:
        mov ax, [gs:EB_CYLS]
        dec ax
        cmp ax, 1023
        jbe .c
        mov ax, 1023
.c:     mov [bp+R_CH], al
        shr ax, 2
        and al, 0xC0
        or al, [gs:EB_SPT]
        mov [bp+R_CL], al
        mov al, [gs:EB_HEADS]
        dec al
        mov [bp+R_DH], al
        mov byte [bp+R_DL], 1
        mov byte [bp+R_AL], 0
        cmp byte [gs:EB_DRIVE], 0x80
        jae .done
        ; diskette: drive type in BL, ES:DI = parameter table
        mov byte [bp+R_BH], 0
        mov al, 4                       ; 1.44 MB
        mov bx, [gs:EB_TOTAL]
        cmp bx, 720
        ja .t2
        mov al, 1                       ; 360 KB
        jmp .t
.t2:    cmp bx, 1440
        ja .t3
        mov al, 3                       ; 720 KB
        jmp .t
.t3:    cmp bx, 2400
        ja .t4
        mov al, 2                       ; 1.2 MB
        jmp .t
.t4:    cmp bx, 2880
        jbe .t
        mov al, 5                       ; 2.88 MB
.t:     mov [bp+R_BL], al
        mov word [bp+R_ES], EBDA_SEG
        mov word [bp+R_DI], EB_DPT
.done:  jmp d_success

; AH=15h: AH = 03h (hard disk, CX:DX = sectors), 01h (diskette without change line) or 00h (no such drive).
d_get_type:
        xor al, al
        cmp byte [gs:EB_DISK_OK], 1
        jne .set
        cmp dl, [gs:EB_DRIVE]
        jne .set
        mov al, 0x01
        cmp dl, 0x80
        jb .set
        mov eax, [gs:EB_TOTAL]
        mov [bp+R_DX], ax
        shr eax, 16
        mov [bp+R_CX], ax
        mov al, 0x03
.set:   mov [bp+R_AH], al
        xor ah, ah
        call d_store_status
        CLEAR_CF
        jmp service_exit

; AH=41h: BX = 55AAh asks whether the extensions exist; BX = AA55h, AH = 30h (EDD 3.0), CX bit 0 (42h-44h,
; 47h, 48h) says they do.
d_ext_check:
        cmp word [bp+R_BX], 0x55AA
        mov ah, DISK_EPARAM
        jne d_fail
        mov word [bp+R_BX], 0xAA55
        mov word [bp+R_CX], 0x0001
        mov ah, 0x30
        mov [bp+R_AH], ah
        xor ah, ah
        call d_store_status
        CLEAR_CF
        jmp service_exit

; AH=42h/43h/44h: disk address packet at DS:SI (size, 0, count word, buffer offset:segment, LBA qword).
d_ext_read:
        mov bl, ATA_CMD_READ
        jmp d_ext
d_ext_write:
        mov bl, ATA_CMD_WRITE
        jmp d_ext
d_ext_verify:
        xor bl, bl
d_ext:  mov ds, [bp+R_DS]
        mov si, [bp+R_SI]
        mov ah, DISK_EPARAM
        cmp byte [si], 0x10
        jb .fail
        cmp dword [si+4], 0xFFFFFFFF    ; 64-bit flat buffer address: not supported
        je .fail
        mov ah, DISK_ENOTFOUND
        cmp dword [si+12], 0            ; beyond LBA28
        jne .fail
        mov eax, [si+8]
        mov cx, [si+2]
        test bl, bl
        jz .verify
        les di, [si+4]
        call disk_transfer
        mov dx, [gs:EB_DONE]
        mov [si+2], dx
        jmp d_done
.verify:
        movzx ecx, cx
        add eax, ecx
        mov ah, DISK_ENOTFOUND
        jc .fail
        cmp eax, [gs:EB_TOTAL]
        ja .fail
        jmp d_success
.fail:  mov word [si+2], 0
        jmp d_fail

; AH=48h: drive parameters into the buffer at DS:SI (its first word gives its size).
d_ext_params:
        mov ds, [bp+R_DS]
        mov si, [bp+R_SI]
        mov ah, DISK_EPARAM
        mov cx, [si]
        cmp cx, 0x1A
        jb d_fail
        mov word [si], 0x1A
        mov word [si+2], 0x0002         ; CHS information valid
        movzx eax, word [gs:EB_CYLS]
        mov [si+4], eax
        movzx eax, word [gs:EB_HEADS]
        mov [si+8], eax
        movzx eax, word [gs:EB_SPT]
        mov [si+12], eax
        mov eax, [gs:EB_TOTAL]
        mov [si+16], eax
        mov dword [si+20], 0
        mov word [si+24], 512
        cmp cx, 0x1E
        jb .d
        mov word [si], 0x1E
        mov dword [si+26], 0xFFFFFFFF   ; no EDD configuration parameters
.d:     jmp d_success

; ---------------------------------------------------------------------------------------------------------------
; INT 10h AH=4Fh: VESA BIOS Extensions 3.0 (VBE Core Functions Standard 3.0), on the Bochs VBE interface at
; ports 1CEh (index) / 1CFh (data) that engine/devices/bochs-vbe.ts models. Linear-framebuffer modes only:
; 640x480, 800x600 and 1024x768 at 32 bpp (x8r8g8b8), the framebuffer at VBE_LFB (a PCI memory hole address).
; Functions: 00h controller information, 01h mode information, 02h set mode, 03h current mode. Each returns
; AL = 4Fh and AH = 00h (success) or 01h (failed); other subfunctions return AH = 02h (not supported).
VBE_INDEX       equ 0x1CE
VBE_DATA        equ 0x1CF
VBE_LFB         equ 0xE0000000
VBE_MEMORY_64K  equ 128                 ; 8 MiB of video memory
VBE_DISPI_ENABLED equ 0x01
VBE_DISPI_LFB   equ 0x40
VBE_DISPI_NOCLEAR equ 0x80

vbe_modes:      ; mode number, width, height (all 32 bpp)
        dw 0x140, 640, 480
        dw 0x141, 800, 600
        dw 0x142, 1024, 768
        dw 0xFFFF
vbe_mode_list:  dw 0x140, 0x141, 0x142, 0xFFFF
vbe_oem:        db 'Ringside VBE', 0
vbe_vendor:     db 'Ringside', 0
vbe_product:    db 'Ringside Bochs-VBE display', 0
vbe_revision:   db '1.0', 0

vbe_service:
        mov al, [bp+R_AL]
        cmp al, 0x00
        je vbe_controller_info
        cmp al, 0x01
        je vbe_mode_info
        cmp al, 0x02
        je vbe_set_mode
        cmp al, 0x03
        je vbe_get_mode
        mov word [bp+R_AX], 0x024F      ; not supported
        jmp service_exit
vbe_ok:
        mov word [bp+R_AX], 0x004F
        jmp service_exit
vbe_failed:
        mov word [bp+R_AX], 0x014F
        jmp service_exit

; AX = index, DX = value
vbe_write:
        push dx
        mov dx, VBE_INDEX
        out dx, ax
        pop ax
        mov dx, VBE_DATA
        out dx, ax
        ret

vbe_disable:
        push ax
        push dx
        mov ax, 4                       ; ENABLE
        xor dx, dx
        call vbe_write
        mov word [gs:EB_VBE_MODE], 0
        pop dx
        pop ax
        ret

; In: CX = mode number. Out: SI = its vbe_modes entry; CF set when there is none.
vbe_find_mode:
        and cx, 0x01FF
        mov si, vbe_modes
.scan:  cmp word [cs:si], 0xFFFF
        je .none
        cmp [cs:si], cx
        je .found
        add si, 6
        jmp .scan
.found: clc
        ret
.none:  stc
        ret

; 00h: ES:DI = VbeInfoBlock (512 bytes when it starts with 'VBE2', else 256)
vbe_controller_info:
        mov es, [bp+R_ES]
        mov di, [bp+R_DI]
        mov cx, 256
        cmp dword [es:di], 'VBE2'        ; the caller asks for the VBE 2.0+ fields
        jne .clear
        mov cx, 512
.clear: push di
        xor al, al
        rep stosb
        pop di
        mov dword [es:di], 'VESA'
        mov word [es:di + 4], 0x0300
        mov word [es:di + 6], vbe_oem
        mov [es:di + 8], cs
        mov dword [es:di + 10], 0       ; capabilities: fixed 6-bit DAC, VGA compatible
        mov word [es:di + 14], vbe_mode_list
        mov [es:di + 16], cs
        mov word [es:di + 18], VBE_MEMORY_64K
        mov word [es:di + 20], 0x0100   ; OEM software revision
        mov word [es:di + 22], vbe_vendor
        mov [es:di + 24], cs
        mov word [es:di + 26], vbe_product
        mov [es:di + 28], cs
        mov word [es:di + 30], vbe_revision
        mov [es:di + 32], cs
        jmp vbe_ok

; 01h: CX = mode, ES:DI = ModeInfoBlock (256 bytes)
vbe_mode_info:
        mov cx, [bp+R_CX]
        call vbe_find_mode
        jc vbe_failed
        mov es, [bp+R_ES]
        mov di, [bp+R_DI]
        push di
        mov cx, 256
        xor al, al
        rep stosb
        pop di
        mov word [es:di], 0x009B        ; supported, info, colour, graphics, linear framebuffer (not VGA windowed)
        mov ax, [cs:si + 2]
        mov [es:di + 18], ax            ; XResolution
        shl ax, 2
        mov [es:di + 16], ax            ; BytesPerScanLine
        mov [es:di + 50], ax            ; LinBytesPerScanLine
        mov ax, [cs:si + 4]
        mov [es:di + 20], ax            ; YResolution
        mov byte [es:di + 22], 8        ; character cell
        mov byte [es:di + 23], 16
        mov byte [es:di + 24], 1        ; planes
        mov byte [es:di + 25], 32       ; bits per pixel
        mov byte [es:di + 26], 1        ; banks
        mov byte [es:di + 27], 6        ; memory model: direct colour
        mov byte [es:di + 30], 1        ; reserved, 1 by the standard
        ; red 8 bits at 16, green 8 at 8, blue 8 at 0, reserved 8 at 24 (banked and linear alike)
        mov dword [es:di + 31], 0x08081008
        mov dword [es:di + 35], 0x18080008
        mov dword [es:di + 54], 0x08081008
        mov dword [es:di + 58], 0x18080008
        mov dword [es:di + 40], VBE_LFB ; PhysBasePtr
        jmp vbe_ok

; 02h: BX = mode (bit 14: linear framebuffer, bit 15: keep the memory). Modes below 100h are VGA modes.
vbe_set_mode:
        mov bx, [bp+R_BX]
        mov cx, bx
        and cx, 0x01FF
        cmp cx, 0x100
        jae .vbe
        call vbe_disable
        mov [bp+R_AL], cl               ; a VGA mode through AH=00h's path
        mov byte [bp+R_AH], 0
        call v_set_mode_inner
        jmp vbe_ok
.vbe:   test bx, 0x4000                 ; only linear framebuffer modes: no banked window here
        jz vbe_failed
        call vbe_find_mode
        jc vbe_failed
        mov ax, 4
        xor dx, dx
        call vbe_write                  ; disable while the geometry changes
        mov ax, 1
        mov dx, [cs:si + 2]
        call vbe_write                  ; XRES
        mov ax, 2
        mov dx, [cs:si + 4]
        call vbe_write                  ; YRES
        mov ax, 3
        mov dx, 32
        call vbe_write                  ; BPP
        mov ax, 4
        mov dx, VBE_DISPI_ENABLED | VBE_DISPI_LFB
        test bx, 0x8000
        jz .enable
        or dx, VBE_DISPI_NOCLEAR
.enable:
        call vbe_write
        mov cx, [cs:si]
        and bx, 0xC000
        or cx, bx
        mov [gs:EB_VBE_MODE], cx
        jmp vbe_ok

; 03h: BX = the current mode
vbe_get_mode:
        mov ax, [gs:EB_VBE_MODE]
        test ax, ax
        jnz .have
        movzx ax, byte [fs:BDA_VIDEO_MODE]
.have:  mov [bp+R_BX], ax
        jmp vbe_ok

; ---------------------------------------------------------------------------------------------------------------
; INT 15h: system services
int15_handler:
        SERVICE_ENTRY
        mov ax, [bp+R_AX]
        cmp ax, 0xE820
        je s_e820
        cmp ax, 0xE801
        je s_e801
        cmp ah, 0x88
        je s_ext_memory
        cmp ax, 0x2400
        je s_a20_off
        cmp ax, 0x2401
        je s_a20_on
        cmp ax, 0x2402
        je s_a20_status
        cmp ax, 0x2403
        je s_a20_support
        cmp ah, 0xC0
        je s_config
s_unsupported:
        mov byte [bp+R_AH], 0x86
s_fail:
        SET_CF
        jmp service_exit
s_ok:   CLEAR_CF
        jmp service_exit

; E820h: EBX = continuation (entry index), ES:DI = 20-byte buffer, ECX = its size, EDX = 'SMAP'.
s_e820:
        cmp dword [bp+R_EDX], 0x534D4150
        jne s_unsupported
        cmp dword [bp+R_ECX], 20
        jb s_unsupported
        mov ebx, [bp+R_EBX]
        mov es, [bp+R_ES]
        mov di, [bp+R_DI]
        cmp word [cs:config_e820_count], 0
        je .fixed
        ; The loader's map: copy entry EBX as it stands.
        movzx ecx, word [cs:config_e820_count]
        cmp ebx, ecx
        jae s_unsupported
        imul si, bx, 20
        add si, config_e820
        mov cx, 20
.copy:  mov al, [cs:si]
        stosb
        inc si
        loop .copy
        inc ebx
        cmp bx, [cs:config_e820_count]
        jb .more
        xor ebx, ebx                    ; that was the last entry
        jmp .more
.fixed: call e820_entry                 ; EAX = base, ECX = length, EDX = type; CF when no such entry
        jc s_unsupported
        mov [es:di], eax
        mov dword [es:di+4], 0
        mov [es:di+8], ecx
        mov dword [es:di+12], 0
        mov [es:di+16], edx
        inc ebx
        push ebx
        call e820_entry
        pop ebx
        jnc .more
        xor ebx, ebx                    ; that was the last entry
.more:  mov [bp+R_EBX], ebx
        mov dword [bp+R_EAX], 0x534D4150
        mov dword [bp+R_ECX], 20
        jmp s_ok

; The map of an image run as a plain ROM (no loader filled config_e820).
; In: EBX = index. Out: EAX = base, ECX = length, EDX = type (1 RAM, 2 reserved); CF set past the end.
; Map: 0-9FC00h RAM, 9FC00h-A0000h reserved (EBDA), F0000h-100000h reserved (BIOS), 1 MiB-top RAM.
e820_entry:
        cmp ebx, 0
        jne .e1
        xor eax, eax
        mov ecx, 0x9FC00
        mov edx, 1
        clc
        ret
.e1:    cmp ebx, 1
        jne .e2
        mov eax, 0x9FC00
        mov ecx, 0x400
        mov edx, 2
        clc
        ret
.e2:    cmp ebx, 2
        jne .e3
        mov eax, 0xF0000
        mov ecx, 0x10000
        mov edx, 2
        clc
        ret
.e3:    cmp ebx, 3
        jne .none
        mov ecx, [gs:EB_MEMSIZE]
        sub ecx, 0x100000
        jbe .none
        mov eax, 0x100000
        mov edx, 1
        clc
        ret
.none:  stc
        ret

; E801h: AX = CX = KiB between 1 and 16 MiB, BX = DX = 64 KiB blocks above 16 MiB.
s_e801:
        mov eax, [gs:EB_MEMSIZE]
        sub eax, 0x100000
        jae .above1
        xor eax, eax
.above1:
        mov ecx, eax
        cmp ecx, 0xF00000
        jbe .low
        mov ecx, 0xF00000
.low:   shr ecx, 10
        mov [bp+R_AX], cx
        mov [bp+R_CX], cx
        sub eax, 0xF00000
        jae .high
        xor eax, eax
.high:  shr eax, 16
        mov [bp+R_BX], ax
        mov [bp+R_DX], ax
        jmp s_ok

; 88h: AX = KiB above 1 MiB (at most FFFFh).
s_ext_memory:
        mov eax, [gs:EB_MEMSIZE]
        sub eax, 0x100000
        jae .a
        xor eax, eax
.a:     shr eax, 10
        cmp eax, 0xFFFF
        jbe .b
        mov eax, 0xFFFF
.b:     mov [bp+R_AX], ax
        jmp s_ok

; A20 through the fast gate, port 92h bit 1 (bit 0 would reset the CPU, so it is always written as 0).
s_a20_off:
        in al, 0x92
        and al, 0xFC
        out 0x92, al
        mov byte [bp+R_AH], 0
        jmp s_ok
s_a20_on:
        in al, 0x92
        and al, 0xFE
        or al, 0x02
        out 0x92, al
        mov byte [bp+R_AH], 0
        jmp s_ok
s_a20_status:
        in al, 0x92
        shr al, 1
        and al, 1
        mov ah, 0
        mov [bp+R_AX], ax
        jmp s_ok
s_a20_support:
        mov word [bp+R_AX], 0
        mov word [bp+R_BX], 0x0002      ; supported through port 92h
        jmp s_ok

; C0h: ES:BX = system configuration table.
s_config:
        mov word [bp+R_ES], cs
        mov word [bp+R_BX], config_table
        mov byte [bp+R_AH], 0
        jmp s_ok

config_table:
        dw 8                            ; bytes that follow
        db 0xFC, 0x01, 0x00             ; model (AT), submodel, BIOS revision
        db 0x70                         ; 2nd 8259, RTC, INT 15h/4Fh is not called but the EBDA exists
        db 0x00, 0x00, 0x00, 0x00

; ---------------------------------------------------------------------------------------------------------------
; INT 16h: keyboard. Without a keyboard controller (port 64h reads FFh) a read returns AX = 0 instead of waiting
; forever; with one, AH=00h waits with HLT for IRQ 1 as a PC BIOS does.
int16_handler:
        SERVICE_ENTRY
        mov ah, [bp+R_AH]
        and ah, 0xEF                    ; 10h-12h: the enhanced versions behave the same here
        cmp ah, 0x00
        je k_read
        cmp ah, 0x01
        je k_peek
        cmp ah, 0x02
        je k_shift
        cmp ah, 0x05
        je k_store
        jmp service_exit

k_read:
        cli
        mov bx, [fs:BDA_KBD_HEAD]
        cmp bx, [fs:BDA_KBD_TAIL]
        jne .have
        in al, 0x64
        cmp al, 0xFF
        je .none
        sti
        hlt
        jmp k_read
.none:  mov word [bp+R_AX], 0
        jmp service_exit
.have:  mov ax, [fs:bx]
        mov [bp+R_AX], ax
        add bx, 2
        cmp bx, [fs:BDA_KBD_END]
        jb .s
        mov bx, [fs:BDA_KBD_START]
.s:     mov [fs:BDA_KBD_HEAD], bx
        jmp service_exit

k_peek:
        in al, 0x64                     ; as k_read does: the keyboard sees a guest polling for keys (input-wait.ts)
        mov bx, [fs:BDA_KBD_HEAD]
        cmp bx, [fs:BDA_KBD_TAIL]
        je .empty
        mov ax, [fs:bx]
        mov [bp+R_AX], ax
        and byte [bp+R_FLAGS], ~FLAG_ZF & 0xFF
        jmp service_exit
.empty: mov word [bp+R_AX], 0
        or byte [bp+R_FLAGS], FLAG_ZF
        jmp service_exit

k_shift:
        mov ax, [fs:BDA_SHIFT]
        mov [bp+R_AL], al
        cmp byte [bp+R_AH], 0x12
        jne .d
        mov [bp+R_AH], ah
.d:     jmp service_exit

; AH=05h: CX = key to put in the buffer; AL = 0, or 1 when the buffer is full.
k_store:
        push fs
        pop ds
        mov ax, [bp+R_CX]
        call kbd_buffer_put
        mov byte [bp+R_AL], 0
        jnc .d
        mov byte [bp+R_AL], 1
.d:     jmp service_exit

; ---------------------------------------------------------------------------------------------------------------
; INT 1Ah: time. The tick count is kept by IRQ 0; the clock and date come from the MC146818 CMOS when there is
; one (status register B reads FFh when nothing answers), else they read as zeros.
int1a_handler:
        SERVICE_ENTRY
        mov ah, [bp+R_AH]
        cmp ah, 0x00
        je t_get_ticks
        cmp ah, 0x01
        je t_set_ticks
        cmp ah, 0x02
        je t_get_time
        cmp ah, 0x03
        je t_set_time
        cmp ah, 0x04
        je t_get_date
        cmp ah, 0x05
        je t_set_date
        SET_CF
        jmp service_exit

t_get_ticks:
        cli
        mov ax, [fs:BDA_TICKS]
        mov [bp+R_DX], ax
        mov ax, [fs:BDA_TICKS + 2]
        mov [bp+R_CX], ax
        mov al, 0
        xchg al, [fs:BDA_MIDNIGHT]
        mov [bp+R_AL], al
        jmp t_ok

t_set_ticks:
        cli
        mov ax, [bp+R_DX]
        mov [fs:BDA_TICKS], ax
        mov ax, [bp+R_CX]
        mov [fs:BDA_TICKS + 2], ax
        mov byte [fs:BDA_MIDNIGHT], 0
        jmp t_ok

; Out: CF set when there is no CMOS.
rtc_present:
        mov al, 0x0B
        call cmos_read
        cmp al, 0xFF
        je .no
        clc
        ret
.no:    stc
        ret

; Waits (bounded) while the RTC is updating (status A bit 7).
rtc_wait:
        push cx
        mov cx, 0xFFFF
.l:     mov al, 0x0A
        call cmos_read
        test al, 0x80
        jz .d
        loop .l
.d:     pop cx
        ret

; In: AL = register. Out: AL = value in BCD (converted when status B bit 2 says the clock is binary).
rtc_read_bcd:
        call cmos_read
        push ax
        mov al, 0x0B
        call cmos_read
        test al, 0x04
        pop ax
        jz .d
        aam                             ; AH = tens, AL = units
        shl ah, 4
        or al, ah
.d:     ret

t_get_time:
        mov dword [bp+R_ECX], 0
        mov dword [bp+R_EDX], 0
        call rtc_present
        jc t_ok
        call rtc_wait
        mov al, 0x04
        call rtc_read_bcd
        mov [bp+R_CH], al
        mov al, 0x02
        call rtc_read_bcd
        mov [bp+R_CL], al
        mov al, 0x00
        call rtc_read_bcd
        mov [bp+R_DH], al
        mov al, 0x0B
        call cmos_read
        and al, 1                       ; daylight saving enabled
        mov [bp+R_DL], al
        jmp t_ok

t_get_date:
        mov dword [bp+R_ECX], 0
        mov dword [bp+R_EDX], 0
        call rtc_present
        jc t_ok
        call rtc_wait
        mov al, 0x32
        call rtc_read_bcd
        mov [bp+R_CH], al
        mov al, 0x09
        call rtc_read_bcd
        mov [bp+R_CL], al
        mov al, 0x08
        call rtc_read_bcd
        mov [bp+R_DH], al
        mov al, 0x07
        call rtc_read_bcd
        mov [bp+R_DL], al
        jmp t_ok

; Setting the clock writes BCD values as given (the clock is kept in BCD mode by every PC BIOS).
t_set_time:
        call rtc_present
        jc t_ok
        mov al, 0x04
        mov ah, [bp+R_CH]
        call cmos_write
        mov al, 0x02
        mov ah, [bp+R_CL]
        call cmos_write
        mov al, 0x00
        mov ah, [bp+R_DH]
        call cmos_write
        jmp t_ok

t_set_date:
        call rtc_present
        jc t_ok
        mov al, 0x32
        mov ah, [bp+R_CH]
        call cmos_write
        mov al, 0x09
        mov ah, [bp+R_CL]
        call cmos_write
        mov al, 0x08
        mov ah, [bp+R_DH]
        call cmos_write
        mov al, 0x07
        mov ah, [bp+R_DL]
        call cmos_write
t_ok:   CLEAR_CF
        jmp service_exit

; In: AL = register, AH = value.
cmos_write:
        out 0x70, al
        mov al, ah
        out 0x71, al
        ret

; ---------------------------------------------------------------------------------------------------------------
; Reset vector at F000:FFF0 (physical FFFFFFF0 at reset, SDM vol. 3 §9.1.4): the far jump reloads CS with a
; real-mode base, leaving the 4 GiB alias behind.
        times 0xFFF0 - ($ - $$) db 0xFF
reset_vector:
        jmp 0xF000:post
        db '11/25/26'                   ; BIOS date at F000:FFF5
        db 0
        db 0xFC                         ; model byte at F000:FFFE: AT
        db 0
