// Run-time binding of the OpenCL ICD loader; see COpenCL.h.
#include "COpenCL.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCL_POINTER(ret, name, params, args) static ret (*p_##name) params;
QCL_FUNCTIONS(QCL_POINTER)
#undef QCL_POINTER

#define QCL_TRAMPOLINE(ret, name, params, args) ret qcl##name params { return p_##name args; }
QCL_FUNCTIONS(QCL_TRAMPOLINE)
#undef QCL_TRAMPOLINE

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded = 0;
static char load_error[512];

static int try_open(const char *library) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(load_error, sizeof load_error, "could not load %s (%s)", library, dlerror());
        return 0;
    }
#define QCL_RESOLVE(ret, name, params, args) \
    *(void **)(&p_##name) = dlsym(handle, "cl" #name); \
    if (p_##name == NULL) { \
        snprintf(load_error, sizeof load_error, "%s has no symbol cl" #name, library); \
        dlclose(handle); \
        return 0; \
    }
    QCL_FUNCTIONS(QCL_RESOLVE)
#undef QCL_RESOLVE
    return 1;
}

int qcl_load(const char *library, char *error, size_t error_size) {
    pthread_mutex_lock(&load_lock);
    if (!loaded) {
        const char *env = getenv("QUIVER_OPENCL_LIBRARY");
        if (library != NULL) {
            loaded = try_open(library);
        } else if (env != NULL && env[0] != '\0') {
            loaded = try_open(env);
        } else {
            loaded = try_open("libOpenCL.so.1") || try_open("libOpenCL.so");
        }
    }
    int ok = loaded;
    if (!ok && error != NULL && error_size > 0) {
        snprintf(error, error_size, "%s", load_error);
    }
    pthread_mutex_unlock(&load_lock);
    return ok;
}
