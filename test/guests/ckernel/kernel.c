/* A small C kernel for the real-guest tests, built with gcc -m32 (gcc-multilib) as a Multiboot ELF.
 *
 * It does what a hobby kernel does first: takes the Multiboot hand-over, prints on COM1, on port E9h and on the
 * VGA text screen, runs some compiled code (a prime sieve), loads its own GDT and an IDT, remaps the 8259 pair to 20h-2Fh,
 * runs the PIT at 100 Hz and the keyboard on IRQ 1, and echoes typed keys (scan code set 1) until Enter. Then it
 * prints the line it read, the timer ticks it counted and the marker, and ends the run through port F4h. */

#define COM1 0x3f8
#define MB_BOOT_MAGIC 0x2badb002u

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

struct multiboot_header { u32 magic, flags, checksum; };
__attribute__((section(".multiboot"), used, aligned(4)))
static const struct multiboot_header mb_header = { 0x1badb002u, 0x2u, (u32)-(0x1badb002u + 0x2u) };

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static volatile u16 *const vga = (u16 *)0xb8000;
static int cursor;

static void putc(char c) {
  outb(0xe9, (u8)c);
  for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++) {}
  outb(COM1, (u8)c);
  if (c == '\n') cursor = (cursor / 80 + 1) * 80;
  else vga[cursor++] = (u16)(0x1f00 | (u8)c);
  if (cursor >= 80 * 25) cursor = 0;
}
static void puts(const char *s) { while (*s) putc(*s++); }
static void putu(u32 v) {
  char buf[11];
  int n = 0;
  do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n) putc(buf[--n]);
}

/* ---- interrupts ---- */
struct idt_entry { u16 offset_low, selector; u8 zero, type; u16 offset_high; } __attribute__((packed));
struct idt_ptr { u16 limit; u32 base; } __attribute__((packed));
static struct idt_entry idt[256];
static volatile u32 ticks;
static char line[64];
static volatile int line_len, line_done;

extern void irq0_stub(void), irq1_stub(void);
__asm__(".globl irq0_stub\nirq0_stub:\n pusha\n call irq0_handler\n popa\n iret\n"
        ".globl irq1_stub\nirq1_stub:\n pusha\n call irq1_handler\n popa\n iret\n");

static void set_gate(int vector, void (*handler)(void)) {
  u32 a = (u32)handler;
  idt[vector] = (struct idt_entry){ (u16)a, 0x08, 0, 0x8e, (u16)(a >> 16) };
}

/* Multiboot leaves GDTR undefined (spec 3.2): a flat GDT of our own, code at 08h and data at 10h. */
static const unsigned long long gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };

static void setup_gdt(void) {
  struct idt_ptr p = { sizeof gdt - 1, (u32)gdt };
  __asm__ volatile("lgdt %0\n ljmp $0x08, $1f\n1:\n mov $0x10, %%ax\n mov %%ax, %%ds\n mov %%ax, %%es\n"
                   " mov %%ax, %%fs\n mov %%ax, %%gs\n mov %%ax, %%ss\n" : : "m"(p) : "eax", "memory");
}

__attribute__((used)) void irq0_handler(void) {
  ticks++;
  outb(0x20, 0x20);
}

/* Set 1 make codes to ASCII, unshifted, for the keys the tests type. */
static const char keymap[0x3a] = {
  [0x02] = '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=',
  [0x10] = 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\n',
  [0x1e] = 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`',
  [0x2b] = '\\', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/',
  [0x39] = ' ',
};

__attribute__((used)) void irq1_handler(void) {
  u8 code = inb(0x60);
  if (code < sizeof keymap && keymap[code] && !line_done) {
    char c = keymap[code];
    putc(c);
    if (c == '\n') line_done = 1;
    else if (line_len < (int)sizeof line - 1) line[line_len++] = c;
  }
  outb(0x20, 0x20);
}

static void setup_interrupts(void) {
  setup_gdt();
  set_gate(0x20, irq0_stub);
  set_gate(0x21, irq1_stub);
  struct idt_ptr p = { sizeof idt - 1, (u32)idt };
  __asm__ volatile("lidt %0" : : "m"(p));
  /* ICW1-4: vectors 20h and 28h, cascade on IR2, 8086 mode; then mask all but IRQ 0 and 1. */
  outb(0x20, 0x11); outb(0xa0, 0x11);
  outb(0x21, 0x20); outb(0xa1, 0x28);
  outb(0x21, 0x04); outb(0xa1, 0x02);
  outb(0x21, 0x01); outb(0xa1, 0x01);
  outb(0x21, 0xfc); outb(0xa1, 0xff);
  /* PIT channel 0, mode 2, 100 Hz. */
  u16 divisor = 11932;
  outb(0x43, 0x34); outb(0x40, (u8)divisor); outb(0x40, (u8)(divisor >> 8));
}

static u32 count_primes(u32 below) {
  static u8 composite[1000];
  u32 n = 0;
  for (u32 i = 2; i < below; i++) {
    if (composite[i]) continue;
    n++;
    for (u32 j = i * i; j < below; j += i) composite[j] = 1;
  }
  return n;
}

void kmain(u32 magic, u32 info) {
  (void)info;
  outb(COM1 + 1, 0); outb(COM1 + 3, 0x80); outb(COM1, 1); outb(COM1 + 1, 0); outb(COM1 + 3, 3); outb(COM1 + 2, 0xc7);
  for (int i = 0; i < 80 * 25; i++) vga[i] = 0x1f20;
  puts("ringside C kernel: ");
  puts(magic == MB_BOOT_MAGIC ? "magic ok" : "bad magic");
  puts(" primes<1000=");
  putu(count_primes(1000));
  puts("\ntype a line: ");
  setup_interrupts();
  __asm__ volatile("sti");
  /* A short line is typed within one timer period (keys come 1 ms of guest time apart): wait for a tick as well,
   * so a timer whose interrupts never arrive ends the run at --max-instructions instead of at the marker. */
  while (!line_done || ticks == 0) __asm__ volatile("hlt");
  __asm__ volatile("cli");
  line[line_len] = 0;
  puts("typed: ");
  puts(line);
  puts(" ticks>0: ");
  puts(ticks > 0 ? "yes" : "no");
  puts("\nRINGSIDE-C-KERNEL-OK\n");
  outb(0xf4, 0);
  for (;;) __asm__ volatile("hlt");
}

__asm__(".globl _start\n_start:\n mov $stack_top, %esp\n push %ebx\n push %eax\n call kmain\n"
        ".section .bss\n .align 16\n .skip 8192\nstack_top:\n .previous\n");
