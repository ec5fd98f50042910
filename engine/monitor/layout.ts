// Where the monitor's own structures live: the hidden region just above guest RAM (engine/bus/memory.ts serves
// it only to the monitor's accesses), its offsets, the monitor's GDT slots beyond the guest's limit, and the IDT
// vectors through which the CPU enters the monitor.

/** Offsets inside the hidden region. */
export const VGDT_OFFSET = 0x00000; // virtual GDT: up to 8192 entries (64 KiB)
export const VLDT_OFFSET = 0x10000; // virtual LDT: up to 8192 entries (64 KiB)
export const IDT_OFFSET = 0x20000; // the monitor's IDT
export const TSS_OFFSET = 0x20800; // the monitor's 32-bit TSS (SS0:ESP0 = the monitor stack)
export const TSS_LIMIT = 0x67;
export const CODE_OFFSET = 0x21000; // the monitor's code segment (gate offsets = vector numbers; return sequences)
export const CODE_LIMIT = 0xfff;
export const STACK_OFFSET = 0x22000; // the monitor's stack segment
export const STACK_SIZE = 0x2000;
/**
 * The part the CPU reaches by linear address (tables, TSS, code, stack). With guest paging it is mapped, supervisor
 * only, at a 4 MiB window of linear space the guest leaves unmapped (shadow-paging.ts).
 */
export const WINDOW_BYTES = 0x24000;
/** Shadow paging (shadow-paging.ts): the shadow page directory, the window's page table, then a pool of tables. */
export const SHADOW_PD_OFFSET = 0x24000;
export const WINDOW_PT_OFFSET = 0x25000;
export const SHADOW_POOL_OFFSET = 0x26000;
export const SHADOW_POOL_TABLES = 64;
export const MONITOR_BYTES = SHADOW_POOL_OFFSET + SHADOW_POOL_TABLES * 0x1000;

/** Offset in the monitor's code segment of `pop ds; pop es; pop fs; pop gs; iretd`. */
export const RETURN_CODE_OFFSET = 0x100;
export const RETURN_CODE = [0x1f, 0x07, 0x0f, 0xa1, 0x0f, 0xa9, 0xcf];

/** The monitor's GDT entries, counted from the first index past the guest's GDT limit. */
export const MON_ENTRY_CODE = 0;
export const MON_ENTRY_STACK = 1;
export const MON_ENTRY_TSS = 2;
export const MON_ENTRIES = 3;
export const MAX_GDT_ENTRIES = 8192;

/** Vectors of the monitor's IDT beyond the CPU's exceptions (0–31). */
export const MON_VECTOR_EXTERNAL = 0x20; // an external interrupt (INTR) for the guest, vector kept aside
export const MON_VECTOR_SBE = 0x21; // a sensitive instruction bound by SBE
export const MON_VECTOR_TABLE_WRITE = 0x22; // a guest store hit a write-protected descriptor-table page
export const MON_VECTORS = 0x23;

/** First index past the guest's GDT limit: the monitor's entries go there. */
export function monitorBaseIndex(guestGdtLimit: number): number {
  return Math.max(1, Math.ceil((guestGdtLimit + 1) / 8));
}
