// CRC-32C (Castagnoli) for Node, written for Brook: the SSE4.2 crc32 instruction on three
// interleaved streams. The instruction's latency is three cycles and its throughput one
// per cycle, so one stream leaves it idle two cycles in three; three independent streams
// keep it busy (about 4x @node-rs/crc32 on a 2-core x86_64 host, bench/crc32c.ts). A CRC register
// is linear over GF(2), so the streams join exactly: the register after A||B is the
// register after A advanced over |B| zero bytes, xor the register of B alone. "Advance
// over n zero bytes" is itself linear, kept as four 256-entry tables per block size.
// Built by scripts/build-native.js at npm install; protocol/crc32c.ts falls back to
// @node-rs/crc32, then to JavaScript, when this is not built or the CPU lacks SSE4.2.
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <stddef.h>
#include <pthread.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define BROOK_X86 1
#endif

#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static int hardware = 0;

#ifdef BROOK_X86
__attribute__((target("sse4.2")))
static uint32_t zeros(uint32_t reg, size_t bytes) {
  uint64_t r = reg;
  for (size_t i = 0; i < bytes / 8; i++) r = _mm_crc32_u64(r, 0);
  return (uint32_t)r;
}

/* Tables of the operator that advances a register over `bytes` zero bytes. */
__attribute__((target("sse4.2")))
static void make_shift_tables(uint32_t tables[4][256], size_t bytes) {
  uint32_t basis[32];
  for (int bit = 0; bit < 32; bit++) basis[bit] = zeros(1u << bit, bytes);
  for (int k = 0; k < 4; k++) {
    for (int b = 0; b < 256; b++) {
      uint32_t v = 0;
      for (int i = 0; i < 8; i++) if (b & (1 << i)) v ^= basis[8 * k + i];
      tables[k][b] = v;
    }
  }
}

static inline uint32_t shift(const uint32_t tables[4][256], uint32_t reg) {
  return tables[0][reg & 0xff] ^ tables[1][(reg >> 8) & 0xff] ^ tables[2][(reg >> 16) & 0xff] ^ tables[3][reg >> 24];
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* The register after 3 * block bytes at p: three streams of `block` bytes, then joined. */
__attribute__((target("sse4.2")))
static inline uint64_t three_streams(uint64_t reg, const uint8_t *p, size_t block, const uint32_t tables[4][256]) {
  uint64_t a = reg, b = 0, c = 0;
  for (size_t i = 0; i < block; i += 8) {
    a = _mm_crc32_u64(a, load64(p + i));
    b = _mm_crc32_u64(b, load64(p + block + i));
    c = _mm_crc32_u64(c, load64(p + 2 * block + i));
  }
  return shift(tables, shift(tables, (uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len) {
  uint64_t reg = (uint32_t)~crc;
  for (; len >= 3 * LONG_BLOCK; p += 3 * LONG_BLOCK, len -= 3 * LONG_BLOCK) reg = three_streams(reg, p, LONG_BLOCK, shift_long);
  for (; len >= 3 * SHORT_BLOCK; p += 3 * SHORT_BLOCK, len -= 3 * SHORT_BLOCK) reg = three_streams(reg, p, SHORT_BLOCK, shift_short);
  while (len >= 8) {
    reg = _mm_crc32_u64(reg, load64(p));
    p += 8;
    len -= 8;
  }
  uint32_t r = (uint32_t)reg;
  while (len > 0) {
    r = _mm_crc32_u8(r, *p++);
    len--;
  }
  return ~r;
}
#endif

/* crc32c(view, start, end[, initial]) -> unsigned CRC-32C of view[start, end). */
static napi_value Crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  size_t length = 0;
  bool is_typed = false;
  if (argc < 3 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, NULL, "crc32c(view, start, end[, initial]) needs a Uint8Array");
    return NULL;
  }
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t byte_offset;
  napi_get_typedarray_info(env, argv[0], &type, &length, &data, &arraybuffer, &byte_offset);
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "crc32c needs a Uint8Array");
    return NULL;
  }
  int64_t start = 0, end = 0;
  uint32_t initial = 0;
  if (napi_get_value_int64(env, argv[1], &start) != napi_ok || napi_get_value_int64(env, argv[2], &end) != napi_ok) {
    napi_throw_type_error(env, NULL, "crc32c: start and end must be numbers");
    return NULL;
  }
  if (argc >= 4) napi_get_value_uint32(env, argv[3], &initial);
  if (start < 0 || end > (int64_t)length || start > end) {
    napi_throw_range_error(env, NULL, "crc32c: range out of bounds");
    return NULL;
  }
  if (!hardware) {
    napi_throw_error(env, NULL, "crc32c: this CPU has no SSE4.2 crc32 instruction");
    return NULL;
  }
  uint32_t crc = 0;
#ifdef BROOK_X86
  crc = crc32c_hw(initial, (const uint8_t *)data + start, (size_t)(end - start));
#endif
  napi_value result;
  napi_create_uint32(env, crc, &result);
  return result;
}

/* Once per process: Init runs again for every worker thread that loads the module. */
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static void init_tables(void) {
#ifdef BROOK_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) {
    make_shift_tables(shift_long, LONG_BLOCK);
    make_shift_tables(shift_short, SHORT_BLOCK);
    hardware = 1;
  }
#endif
}

static napi_value Init(napi_env env, napi_value exports) {
  pthread_once(&tables_once, init_tables);
  napi_value fn, flag;
  napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, Crc32c, NULL, &fn);
  napi_get_boolean(env, hardware, &flag);
  napi_set_named_property(env, exports, "crc32c", fn);
  napi_set_named_property(env, exports, "hardware", flag);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
