/* The model of bench/x87-loop.asm's loop, run on this machine's own x87: the same instructions, from the same state
 * (FNINIT, x = 1, sum = 0, ITERATIONS times), printing the values the guest checks as NASM equates. Rebuild the
 * constants in x87-loop.asm with:
 *     gcc -O0 -o /tmp/x87-loop-model x87-loop-model.c && /tmp/x87-loop-model */
#include <stdio.h>
#include <string.h>

#define ITERATIONS 20000

int main(void) {
  static const float k = 0.75f, two = 2.0f, three = 3.0f;
  unsigned char x[10], sum[10];
  double last;
  int rounded;
  unsigned n = ITERATIONS;
  __asm__ volatile(
      "fninit\n"
      "fldz\n"                 /* sum */
      "fld1\n"                 /* x */
      "1:\n"
      "fmuls %[k]\n"           /*  1 x × 0.75 */
      "fadds %[two]\n"         /*  2 + 2 */
      "fsqrt\n"                /*  3 x = √(…) */
      "fld %%st(0)\n"          /*  4 x, x, sum */
      "fdivs %[three]\n"       /*  5 x/3, x, sum */
      "faddp %%st, %%st(2)\n"  /*  6 x, sum + x/3 */
      "fstl %[last]\n"         /*  7 store x as a double */
      "fistl %[rounded]\n"     /*  8 store x rounded to an integer */
      "decl %[n]\n"            /*  9 */
      "jnz 1b\n"               /* 10 */
      "fstpt %[x]\n"
      "fstpt %[sum]\n"
      : [n] "+r"(n), [last] "=m"(last), [rounded] "=m"(rounded), [x] "=m"(x), [sum] "=m"(sum)
      : [k] "m"(k), [two] "m"(two), [three] "m"(three)
      : "cc", "memory");
  unsigned int w[3];
  memcpy(w, sum, 10);
  printf("EXPECT_SUM_LO   equ 0x%08X\nEXPECT_SUM_HI   equ 0x%08X\nEXPECT_SUM_SE   equ 0x%04X\n", w[0], w[1], w[2] & 0xffff);
  memcpy(w, x, 10);
  printf("EXPECT_X_LO     equ 0x%08X\nEXPECT_X_HI     equ 0x%08X\nEXPECT_X_SE     equ 0x%04X\n", w[0], w[1], w[2] & 0xffff);
  printf("EXPECT_ROUNDED  equ %d\n", rounded);
  return 0;
}
