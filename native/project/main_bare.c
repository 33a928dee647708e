/* dst C export: bare-metal program; runs the model once at reset on an image the application fills. */
#include "model.h"

/*
 * Filled by the application (camera, sensor, link) before the run. 8-bit
 * pixels, as sensors deliver them, take a quarter of a float image's RAM;
 * an application with float data passes it to dst_model_run instead.
 */
static uint8_t image[DST_MODEL_INPUT_SIZE];
static float scores[DST_MODEL_OUTPUT_SIZE];
volatile int dst_top_class;

int main(void) {
  dst_model_run_u8(image, scores);
  int best = 0;
  for (int i = 1; i < DST_MODEL_OUTPUT_SIZE; i++)
    if (scores[i] > scores[best]) best = i;
  dst_top_class = best;
  return 0;
}
