// OpenCL 1.2 API, loaded at run time.
//
// Quiver does not link libOpenCL: `qcl_load` dlopens the ICD loader (libOpenCL.so.1) and resolves
// the entry points below, so a binary on a machine without OpenCL still runs on the CPU backend.
// Each `qclNAME` forwards to the loader's `clNAME`; call them only after `qcl_load` returned 1.
#ifndef QUIVER_COPENCL_H
#define QUIVER_COPENCL_H

#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <stddef.h>

// X(return type, name without the cl prefix, parameter list, argument list)
#define QCL_FUNCTIONS(X) \
  X(cl_int, GetPlatformIDs, (cl_uint n, cl_platform_id *platforms, cl_uint *count), (n, platforms, count)) \
  X(cl_int, GetPlatformInfo, (cl_platform_id p, cl_platform_info name, size_t size, void *value, size_t *size_ret), (p, name, size, value, size_ret)) \
  X(cl_int, GetDeviceIDs, (cl_platform_id p, cl_device_type type, cl_uint n, cl_device_id *devices, cl_uint *count), (p, type, n, devices, count)) \
  X(cl_int, GetDeviceInfo, (cl_device_id d, cl_device_info name, size_t size, void *value, size_t *size_ret), (d, name, size, value, size_ret)) \
  X(cl_context, CreateContext, (const cl_context_properties *props, cl_uint n, const cl_device_id *devices, void (CL_CALLBACK *notify)(const char *, const void *, size_t, void *), void *user, cl_int *err), (props, n, devices, notify, user, err)) \
  X(cl_int, ReleaseContext, (cl_context c), (c)) \
  X(cl_command_queue, CreateCommandQueue, (cl_context c, cl_device_id d, cl_command_queue_properties props, cl_int *err), (c, d, props, err)) \
  X(cl_int, ReleaseCommandQueue, (cl_command_queue q), (q)) \
  X(cl_mem, CreateBuffer, (cl_context c, cl_mem_flags flags, size_t size, void *host, cl_int *err), (c, flags, size, host, err)) \
  X(cl_int, ReleaseMemObject, (cl_mem m), (m)) \
  X(cl_int, EnqueueWriteBuffer, (cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset, size_t size, const void *ptr, cl_uint nwait, const cl_event *wait, cl_event *ev), (q, m, blocking, offset, size, ptr, nwait, wait, ev)) \
  X(cl_int, EnqueueReadBuffer, (cl_command_queue q, cl_mem m, cl_bool blocking, size_t offset, size_t size, void *ptr, cl_uint nwait, const cl_event *wait, cl_event *ev), (q, m, blocking, offset, size, ptr, nwait, wait, ev)) \
  X(cl_int, EnqueueFillBuffer, (cl_command_queue q, cl_mem m, const void *pattern, size_t pattern_size, size_t offset, size_t size, cl_uint nwait, const cl_event *wait, cl_event *ev), (q, m, pattern, pattern_size, offset, size, nwait, wait, ev)) \
  X(cl_int, EnqueueCopyBuffer, (cl_command_queue q, cl_mem src, cl_mem dst, size_t src_offset, size_t dst_offset, size_t size, cl_uint nwait, const cl_event *wait, cl_event *ev), (q, src, dst, src_offset, dst_offset, size, nwait, wait, ev)) \
  X(cl_program, CreateProgramWithSource, (cl_context c, cl_uint n, const char **strings, const size_t *lengths, cl_int *err), (c, n, strings, lengths, err)) \
  X(cl_program, CreateProgramWithBinary, (cl_context c, cl_uint n, const cl_device_id *devices, const size_t *lengths, const unsigned char **binaries, cl_int *status, cl_int *err), (c, n, devices, lengths, binaries, status, err)) \
  X(cl_int, BuildProgram, (cl_program p, cl_uint n, const cl_device_id *devices, const char *options, void (CL_CALLBACK *notify)(cl_program, void *), void *user), (p, n, devices, options, notify, user)) \
  X(cl_int, GetProgramBuildInfo, (cl_program p, cl_device_id d, cl_program_build_info name, size_t size, void *value, size_t *size_ret), (p, d, name, size, value, size_ret)) \
  X(cl_int, GetProgramInfo, (cl_program p, cl_program_info name, size_t size, void *value, size_t *size_ret), (p, name, size, value, size_ret)) \
  X(cl_int, ReleaseProgram, (cl_program p), (p)) \
  X(cl_kernel, CreateKernel, (cl_program p, const char *name, cl_int *err), (p, name, err)) \
  X(cl_int, ReleaseKernel, (cl_kernel k), (k)) \
  X(cl_int, SetKernelArg, (cl_kernel k, cl_uint index, size_t size, const void *value), (k, index, size, value)) \
  X(cl_int, GetKernelWorkGroupInfo, (cl_kernel k, cl_device_id d, cl_kernel_work_group_info name, size_t size, void *value, size_t *size_ret), (k, d, name, size, value, size_ret)) \
  X(cl_int, EnqueueNDRangeKernel, (cl_command_queue q, cl_kernel k, cl_uint dims, const size_t *offset, const size_t *global, const size_t *local, cl_uint nwait, const cl_event *wait, cl_event *ev), (q, k, dims, offset, global, local, nwait, wait, ev)) \
  X(cl_int, Finish, (cl_command_queue q), (q)) \
  X(cl_int, Flush, (cl_command_queue q), (q)) \
  X(cl_int, WaitForEvents, (cl_uint n, const cl_event *events), (n, events)) \
  X(cl_int, ReleaseEvent, (cl_event e), (e)) \
  X(cl_int, GetEventProfilingInfo, (cl_event e, cl_profiling_info name, size_t size, void *value, size_t *size_ret), (e, name, size, value, size_ret))

#define QCL_DECLARE(ret, name, params, args) ret qcl##name params;
QCL_FUNCTIONS(QCL_DECLARE)
#undef QCL_DECLARE

/// Loads the OpenCL ICD loader once (thread-safe). Returns 1 on success; on failure returns 0 and
/// writes a human-readable reason (library or symbol missing) into `error` (at most `error_size` bytes).
/// `library` overrides the library name (NULL: $QUIVER_OPENCL_LIBRARY, then libOpenCL.so.1, libOpenCL.so).
int qcl_load(const char *library, char *error, size_t error_size);

#endif
