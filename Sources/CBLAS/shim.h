// OpenBLAS's cblas.h (Debian: libopenblas-dev). It also declares openblas_set_num_threads,
// openblas_get_corename and openblas_get_config, which the CPU backend uses.
#include <cblas.h>
