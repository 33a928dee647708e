/* dst C export: minimal Cortex-M start-up: vector table, .data copy, .bss clear, FPU on, main. */
#include <stdint.h>

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);
void dst_reset(void);
void dst_default_handler(void);

typedef void (*dst_vector)(void);

__attribute__((section(".isr_vector"), used)) const dst_vector dst_vectors[16] = {
  (dst_vector)_estack, dst_reset, dst_default_handler, dst_default_handler,
  dst_default_handler, dst_default_handler, dst_default_handler, 0,
  0, 0, 0, dst_default_handler,
  dst_default_handler, 0, dst_default_handler, dst_default_handler,
};

void dst_reset(void) {
  uint32_t *src = _sidata, *dst = _sdata;
  while (dst < _edata) *dst++ = *src++;
  for (dst = _sbss; dst < _ebss;) *dst++ = 0;
  /* CPACR: full access to CP10/CP11, so the hard-float code that follows may run. */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  (void)main();
  for (;;) {
  }
}

/* Weak, so a program that can report a fault (semihost.c under QEMU) replaces the endless loop. */
__attribute__((weak)) void dst_default_handler(void) {
  for (;;) {
  }
}
