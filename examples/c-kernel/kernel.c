/* A freestanding multiboot kernel in C for Ringside's C walk-through (README "Debugging a C kernel").
 * It describes its GDT as a C array of packed structs, fills the entries in gdt_set, loads the table and reloads
 * every segment register, takes a software interrupt in a C handler and recurses a few levels deep.
 * Build: see build.sh in this folder (gcc -m32, freestanding, no libc). */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;

/* One GDT entry as the CPU reads it (SDM vol. 3A §3.4.5), little-endian, no padding. */
struct gdt_entry {
  u16 limit_low;
  u16 base_low;
  u8 base_mid;
  u8 access;
  u8 limit_high : 4;
  u8 flags : 4;
  u8 base_high;
} __attribute__((packed));

/* The operand of LGDT and LIDT: a 16-bit limit and a 32-bit base. */
struct table_ptr {
  u16 limit;
  u32 base;
} __attribute__((packed));

/* One IDT entry: an interrupt gate. */
struct idt_gate {
  u16 offset_low;
  u16 selector;
  u8 zero;
  u8 type_attr;
  u16 offset_high;
} __attribute__((packed));

enum seg_kind { SEG_NULL, SEG_CODE, SEG_DATA, SEG_SCRATCH };

union word_bytes {
  u32 word;
  u8 bytes[4];
};

struct interrupt_frame;

struct gdt_entry gdt[5];
struct table_ptr gdtr;
struct idt_gate idt[64];
struct table_ptr idtr;
volatile u32 ticks;
char scratch[64];
const char *greeting = "ring 0 in C";
enum seg_kind last_kind;
float ratio = 1.5f;
double precise = -2.25;
_Bool ready;
union word_bytes magic = { 0x11223344 };

static void out_byte(u16 port, u8 value) {
  __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static void puts_e9(const char *s) {
  while (*s) out_byte(0xe9, (u8)*s++);
}

/* Fills GDT entry n (base, 20-bit limit, access byte, 4 flag bits G D/B L AVL). */
__attribute__((noinline)) void gdt_set(int n, u32 base, u32 limit, u8 access, u8 flags) {
  struct gdt_entry *e = &gdt[n];
  u16 low = (u16)(base & 0xffff);
  e->limit_low = (u16)(limit & 0xffff);
  e->base_low = low;
  e->base_mid = (u8)((base >> 16) & 0xff);
  e->access = access;
  e->limit_high = (u8)((limit >> 16) & 0xf);
  e->flags = flags & 0xf;
  e->base_high = (u8)(base >> 24);
  last_kind = n == 1 ? SEG_CODE : n == 3 ? SEG_SCRATCH : n ? SEG_DATA : SEG_NULL;
}

/* Loads GDTR and reloads CS (far jump) and the data segment registers with `data`. */
__attribute__((noinline)) void gdt_load(u16 data) {
  gdtr.limit = sizeof gdt - 1;
  gdtr.base = (u32)gdt;
  __asm__ volatile("lgdt %0" : : "m"(gdtr));
  __asm__ volatile("ljmp $0x08, $1f\n1:" ::: "memory");
  __asm__ volatile(
      "mov %w0, %%ds\n"
      "mov %w0, %%es\n"
      "mov %w0, %%fs\n"
      "mov %w0, %%gs\n"
      "mov %w0, %%ss\n"
      :
      : "r"(data)
      : "memory");
}

/* Writes through DS = 0x18 (the scratch segment), then back to the flat data segment. */
__attribute__((noinline)) void scratch_write(u32 value) {
  __asm__ volatile(
      "mov $0x18, %%cx\n"
      "mov %%cx, %%ds\n"
      "movl %0, %%ds:4\n"
      "mov $0x10, %%cx\n"
      "mov %%cx, %%ds\n"
      :
      : "r"(value)
      : "ecx", "memory");
}

__attribute__((interrupt)) void on_soft_int(struct interrupt_frame *frame) {
  (void)frame;
  ticks = ticks + 1;
}

__attribute__((noinline)) void idt_set(int n, void (*handler)(struct interrupt_frame *)) {
  u32 at = (u32)handler;
  idt[n].offset_low = (u16)at;
  idt[n].selector = 0x08;
  idt[n].zero = 0;
  idt[n].type_attr = 0x8e;
  idt[n].offset_high = (u16)(at >> 16);
}

void sink(volatile char *p);

/* Recurses `n` levels; every level keeps a buffer on its stack so the compiler keeps the frames. */
__attribute__((noinline)) int walk(int n) {
  volatile char mark[4];
  mark[0] = (char)('0' + n);
  sink(mark);
  if (n == 0) return 0;
  int below = walk(n - 1);
  return below + mark[0] - '0';
}

__attribute__((noinline)) void sink(volatile char *p) {
  scratch[8] = p[0];
}

void kmain(u32 magic_number) {
  gdt_set(0, 0, 0, 0, 0);
  gdt_set(1, 0, 0xfffff, 0x9a, 0xc);
  gdt_set(2, 0, 0xfffff, 0x92, 0xc);
  gdt_set(3, (u32)scratch, sizeof scratch - 1, 0x92, 0x4);
  gdt_load(0x10);
  scratch_write(magic_number);
  idt_set(0x30, on_soft_int);
  idtr.limit = sizeof idt - 1;
  idtr.base = (u32)idt;
  __asm__ volatile("lidt %0" : : "m"(idtr));
  __asm__ volatile("int $0x30");
  for (int round = 0; round < 2; round++) {
    u32 twice = (u32)round * 2;
    ticks = ticks + twice;
  }
  ready = walk(3) == 6;
  puts_e9(greeting);
  puts_e9(ready ? " ok\n" : " bad\n");
  out_byte(0xf4, 0);
}

/* The multiboot header (magic, flags, checksum) and the entry: a stack, then kmain. */
__asm__(
    ".pushsection .multiboot, \"a\"\n"
    ".align 4\n"
    ".long 0x1badb002, 0, -0x1badb002\n"
    ".popsection\n"
    ".pushsection .text\n"
    ".globl _start\n"
    "_start:\n"
    "  mov $stack_top, %esp\n"
    "  push %eax\n"
    "  call kmain\n"
    "  hlt\n"
    ".popsection\n"
    ".pushsection .bss\n"
    ".align 16\n"
    "  .skip 8192\n"
    "stack_top:\n"
    ".popsection\n");
