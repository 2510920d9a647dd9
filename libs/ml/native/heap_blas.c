// Native BLAS for tensors that live in the tfjs wasm backend's heap (see ../src/kernels/native-blas.ts).
// Every pointer is a byte offset into the WebAssembly.Memory's ArrayBuffer, handed in per call (the
// buffer moves when the heap grows). The math is OpenBLAS's cblas_sgemm (AVX-512/AVX2 kernels chosen
// at run time), which the wasm build cannot reach: wasm has 128-bit SIMD and no fused multiply-add.
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// Element-wise loops get AVX-512 / AVX2 clones picked at load time (the addon may be built on one x86
// machine and run on another); elsewhere the compiler's baseline.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error(env, "MODELSMITH_NATIVE_BLAS", "N-API call failed: " #call); \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

// The arguments of a call taking `want` of them, the first being the heap's ArrayBuffer: fills argv,
// *data and *length and returns 1, or throws (wrong count, not an ArrayBuffer) and returns 0.
static int heap_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                     const char *name, void **data, size_t *length) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    char msg[64];
    snprintf(msg, sizeof msg, "%s takes %zu arguments", name, want);
    napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", msg);
    return 0;
  }
  if (napi_get_arraybuffer_info(env, argv[0], data, length) != napi_ok) {
    napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "the first argument must be the heap's ArrayBuffer");
    return 0;
  }
  return 1;
}

// sgemm(heap, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): row-major
// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C. Offsets and leading dimensions in floats/bytes
// as documented in native-blas.ts; bounds are checked against the heap's length.
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  void *data = NULL;
  size_t length = 0;
  if (!heap_call(env, info, 14, argv, "sgemm", &data, &length)) return NULL;
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, argv[1], &ta));
  CHECK(napi_get_value_bool(env, argv[2], &tb));
  int64_t m, n, k, a, lda, b, ldb, c, ldc;
  double alpha, beta;
  if (!get_i64(env, argv[3], &m) || !get_i64(env, argv[4], &n) || !get_i64(env, argv[5], &k) ||
      napi_get_value_double(env, argv[6], &alpha) != napi_ok || !get_i64(env, argv[7], &a) ||
      !get_i64(env, argv[8], &lda) || !get_i64(env, argv[9], &b) || !get_i64(env, argv[10], &ldb) ||
      napi_get_value_double(env, argv[11], &beta) != napi_ok || !get_i64(env, argv[12], &c) ||
      !get_i64(env, argv[13], &ldc)) {
    napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "sgemm: numeric arguments expected");
    return NULL;
  }
  if (m <= 0 || n <= 0 || k <= 0) return NULL;
  // Extent of each matrix in floats: rows * ld, where a row-major [r, cols] matrix has r rows.
  int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
  int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
  int64_t floats = (int64_t)(length / 4);
  if (a < 0 || b < 0 || c < 0 || (a & 3) || (b & 3) || (c & 3) || lda < a_cols || ldb < b_cols ||
      ldc < n || a / 4 + (a_rows - 1) * lda + a_cols > floats ||
      b / 4 + (b_rows - 1) * ldb + b_cols > floats || c / 4 + (m - 1) * ldc + n > floats) {
    napi_throw_range_error(env, "MODELSMITH_NATIVE_BLAS", "sgemm: operand outside the heap");
    return NULL;
  }
  float *base = (float *)data;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m,
              (int)n, (int)k, (float)alpha, base + a / 4, (int)lda, base + b / 4, (int)ldb,
              (float)beta, base + c / 4, (int)ldc);
  return NULL;
}


// Floats of im2col per block (rows = this / k): small enough that a block written by im2col is still
// in the core's L2 cache when sgemm reads it back, large enough for sgemm to run at full rate.
#ifndef COL_BLOCK_FLOATS
#define COL_BLOCK_FLOATS (1 << 18)
#endif

// The calling thread's im2col scratch, grown on demand and kept: a fresh malloc per call of a block
// this size is an mmap whose pages fault in again on every call (kernel time on every convolution).
// Each tfjs thread (main, inference, data-parallel replicas) calls from its own OS thread.
static _Thread_local float *scratch;
static _Thread_local size_t scratch_floats;

static float *get_scratch(size_t floats) {
  if (floats > scratch_floats) {
    float *grown = realloc(scratch, floats * sizeof(float));
    if (!grown) return NULL;
    scratch = grown;
    scratch_floats = floats;
  }
  return scratch;
}

// Env cleanup hook: frees the scratch of the thread whose env (a worker thread's) is torn down.
static void free_scratch(void *arg) {
  (void)arg;
  free(scratch);
  scratch = NULL;
  scratch_floats = 0;
}

// y[r, c] = act(y[r, c] + bias[c]) over rows of co channels; act 0 linear, 1 relu, 2 relu6.
VECTOR_CLONES static void bias_act(float *y, int64_t rows, int64_t co, const float *bias, int64_t act) {
  for (int64_t r = 0; r < rows; r++) {
    float *row = y + r * co;
    for (int64_t c = 0; c < co; c++) {
      float t = row[c] + (bias ? bias[c] : 0.0f);
      if (act >= 1) t = t < 0 ? 0 : t;
      if (act == 2) t = t > 6 ? 6 : t;
      row[c] = t;
    }
  }
}

typedef struct {
  int64_t n, h, w, ci, ho, wo, co, fh, fw, sh, sw, dh, dw, pt, pl;
} conv_shape;

// cols[r, (i*fw + j)*ci + c] = x[n, oy*sh + i*dh - pt, ox*sw + j*dw - pl, c] (0 outside), for output
// pixels r = p0 .. p0+rows-1 in NHWC order.
static void im2col(const float *x, float *cols, const conv_shape *s, int64_t p0, int64_t rows) {
  int64_t k = s->fh * s->fw * s->ci;
  for (int64_t r = 0; r < rows; r++) {
    int64_t p = p0 + r, ox = p % s->wo, oy = (p / s->wo) % s->ho, b = p / (s->wo * s->ho);
    float *dst = cols + r * k;
    for (int64_t i = 0; i < s->fh; i++) {
      int64_t iy = oy * s->sh + i * s->dh - s->pt;
      for (int64_t j = 0; j < s->fw; j++, dst += s->ci) {
        int64_t ix = ox * s->sw + j * s->dw - s->pl;
        if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) memset(dst, 0, s->ci * sizeof(float));
        else memcpy(dst, x + ((b * s->h + iy) * s->w + ix) * s->ci, s->ci * sizeof(float));
      }
    }
  }
}

// dx[...] += dcols[r, ...]: the adjoint of im2col.
static void col2im(const float *cols, float *dx, const conv_shape *s, int64_t p0, int64_t rows) {
  int64_t k = s->fh * s->fw * s->ci;
  for (int64_t r = 0; r < rows; r++) {
    int64_t p = p0 + r, ox = p % s->wo, oy = (p / s->wo) % s->ho, b = p / (s->wo * s->ho);
    const float *src = cols + r * k;
    for (int64_t i = 0; i < s->fh; i++) {
      int64_t iy = oy * s->sh + i * s->dh - s->pt;
      for (int64_t j = 0; j < s->fw; j++, src += s->ci) {
        int64_t ix = ox * s->sw + j * s->dw - s->pl;
        if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
        float *d = dx + ((b * s->h + iy) * s->w + ix) * s->ci;
        for (int64_t c = 0; c < s->ci; c++) d[c] += src[c];
      }
    }
  }
}

static int pointwise(const conv_shape *s) {
  return s->fh == 1 && s->fw == 1 && s->sh == 1 && s->sw == 1 && s->pt == 0 && s->pl == 0 &&
         s->ho == s->h && s->wo == s->w;
}

// conv(heap, mode, x, w, y, bias, activation, shape[15]) with NHWC x [n,h,w,ci], filter
// [fh,fw,ci,co], y [n,ho,wo,co]. mode 0: y = act(conv(x, w) + bias); 1: w = filter gradient from x and
// y (= dy); 2: x = input gradient (dx) from y (= dy) and w. bias < 0: none. activation 0 linear,
// 1 relu, 2 relu6. Pointers are byte offsets into heap; extents are checked.
static napi_value Conv(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  void *data = NULL;
  size_t length = 0;
  if (!heap_call(env, info, 8, argv, "conv", &data, &length)) return NULL;
  int64_t mode, px, pw, py, pb, act;
  if (!get_i64(env, argv[1], &mode) || !get_i64(env, argv[2], &px) || !get_i64(env, argv[3], &pw) ||
      !get_i64(env, argv[4], &py) || !get_i64(env, argv[5], &pb) || !get_i64(env, argv[6], &act)) {
    napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "conv: numeric arguments expected");
    return NULL;
  }
  int64_t v[15];
  for (uint32_t i = 0; i < 15; i++) {
    napi_value e;
    if (napi_get_element(env, argv[7], i, &e) != napi_ok || !get_i64(env, e, &v[i])) {
      napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "conv: shape must be 15 integers");
      return NULL;
    }
  }
  conv_shape s = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12],
                  v[13], v[14]};
  int64_t floats = (int64_t)(length / 4);
  int64_t xs = s.n * s.h * s.w * s.ci, ws = s.fh * s.fw * s.ci * s.co, ys = s.n * s.ho * s.wo * s.co;
  int bad = mode < 0 || mode > 2 || act < 0 || act > 2 || xs <= 0 || ws <= 0 || ys <= 0 ||
            (px & 3) || (pw & 3) || (py & 3) || px < 0 || pw < 0 || py < 0 ||
            px / 4 + xs > floats || pw / 4 + ws > floats || py / 4 + ys > floats ||
            (pb >= 0 && ((pb & 3) || pb / 4 + s.co > floats)) || s.sh < 1 || s.sw < 1 || s.dh < 1 ||
            s.dw < 1;
  if (bad) {
    napi_throw_range_error(env, "MODELSMITH_NATIVE_BLAS", "conv: bad mode, shape or operand");
    return NULL;
  }
  float *base = (float *)data;
  float *x = base + px / 4, *w = base + pw / 4, *y = base + py / 4;
  const float *bias = pb >= 0 ? base + pb / 4 : NULL;
  int epilogue = mode == 0 && (bias || act != 0);
  int64_t k = s.fh * s.fw * s.ci, p = s.n * s.ho * s.wo;
  if (pointwise(&s)) {
    if (mode == 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, p, s.co, k, 1, x, k, w, s.co, 0, y, s.co);
    else if (mode == 1)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, s.co, p, 1, x, k, y, s.co, 0, w, s.co);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p, k, s.co, 1, y, s.co, w, s.co, 0, x, k);
    if (epilogue) bias_act(y, p, s.co, bias, act);
    return NULL;
  }
  int64_t block = COL_BLOCK_FLOATS / k;
  if (block < 1) block = 1;
  if (block > p) block = p;
  float *cols = get_scratch((size_t)(block * k));
  if (!cols) {
    napi_throw_error(env, "MODELSMITH_NATIVE_BLAS", "conv: out of memory for im2col");
    return NULL;
  }
  if (mode == 2) memset(x, 0, (size_t)xs * sizeof(float));
  for (int64_t p0 = 0; p0 < p; p0 += block) {
    int64_t rows = p - p0 < block ? p - p0 : block;
    if (mode == 0) {
      im2col(x, cols, &s, p0, rows);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, s.co, k, 1, cols, k, w, s.co, 0,
                  y + p0 * s.co, s.co);
      if (epilogue) bias_act(y + p0 * s.co, rows, s.co, bias, act);
    } else if (mode == 1) {
      im2col(x, cols, &s, p0, rows);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, s.co, rows, 1, cols, k, y + p0 * s.co,
                  s.co, p0 == 0 ? 0 : 1, w, s.co);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, k, s.co, 1, y + p0 * s.co, s.co, w,
                  s.co, 0, cols, k);
      col2im(cols, x, &s, p0, rows);
    }
  }
  return NULL;
}

// Per-channel statistics of rows x c (NHWC with every axis but the last reduced): mean and biased
// variance, accumulated in double around a shift (the first row) so that E[x^2] - E[x]^2 does not
// cancel badly.
VECTOR_CLONES static void bn_stats(const float *x, int64_t rows, int64_t c, double *s1, double *s2) {
  for (int64_t j = 0; j < c; j++) s1[j] = s2[j] = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *row = x + r * c;
    for (int64_t j = 0; j < c; j++) {
      double d = (double)row[j] - (double)x[j];
      s1[j] += d;
      s2[j] += d * d;
    }
  }
}

// out[r, j] = in[r, j] * a[j] + b[j]
VECTOR_CLONES static void scale_shift(const float *in, float *out, int64_t rows, int64_t c,
                                      const float *a, const float *b) {
  for (int64_t r = 0; r < rows; r++) {
    const float *src = in + r * c;
    float *dst = out + r * c;
    for (int64_t j = 0; j < c; j++) dst[j] = src[j] * a[j] + b[j];
  }
}

// s1[j] = sum dy, s2[j] = sum dy * (x - mean)
VECTOR_CLONES static void bn_grad_sums(const float *dy, const float *x, const float *mean, int64_t rows,
                                       int64_t c, double *s1, double *s2) {
  for (int64_t j = 0; j < c; j++) s1[j] = s2[j] = 0;
  for (int64_t r = 0; r < rows; r++) {
    const float *g = dy + r * c, *v = x + r * c;
    for (int64_t j = 0; j < c; j++) {
      s1[j] += g[j];
      s2[j] += (double)g[j] * (double)(v[j] - mean[j]);
    }
  }
}

// dx[r, j] = a[j] * dy[r, j] + b[j] * (x[r, j] - mean[j]) + e[j]
VECTOR_CLONES static void bn_grad_dx(const float *dy, const float *x, const float *mean, float *dx,
                                     int64_t rows, int64_t c, const float *a, const float *b,
                                     const float *e) {
  for (int64_t r = 0; r < rows; r++) {
    const float *g = dy + r * c, *v = x + r * c;
    float *d = dx + r * c;
    for (int64_t j = 0; j < c; j++) d[j] = a[j] * g[j] + b[j] * (v[j] - mean[j]) + e[j];
  }
}

// batchNorm(heap, mode, offsets[], rows, c, epsilon): training-mode batch normalization over rows x c.
// mode 0 (forward), offsets [x, gamma, beta, y, mean, variance]:
//   mean, variance = per-channel moments of x (biased); y = (x - mean) * gamma / sqrt(var + eps) + beta.
// mode 1 (gradient), offsets [x, gamma, mean, variance, dy, dmean, dvariance, dx, dgamma, dbeta]:
//   with inv = 1/sqrt(var + eps), S1 = sum dy, S2 = sum dy (x - mean), M = rows:
//   dbeta = S1, dgamma = inv S2,
//   dx = gamma inv dy + (2 dvar / M - gamma inv^3 S2 / M) (x - mean) + dmean / M - gamma inv S1 / M
//   (the last terms are the gradient through the batch moments, which depend on x).
static napi_value BatchNorm(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  void *data = NULL;
  size_t length = 0;
  if (!heap_call(env, info, 6, argv, "batchNorm", &data, &length)) return NULL;
  int64_t mode, rows, c;
  double eps;
  if (!get_i64(env, argv[1], &mode) || !get_i64(env, argv[3], &rows) || !get_i64(env, argv[4], &c) ||
      napi_get_value_double(env, argv[5], &eps) != napi_ok || (mode != 0 && mode != 1) || rows < 1 ||
      c < 1 || !(eps >= 0)) {
    napi_throw_range_error(env, "MODELSMITH_NATIVE_BLAS", "batchNorm: bad mode, shape or epsilon");
    return NULL;
  }
  // Which operands are full [rows, c] tensors (the others are [c]).
  static const int full0[6] = {1, 0, 0, 1, 0, 0}, full1[10] = {1, 0, 0, 0, 1, 0, 0, 1, 0, 0};
  const int *full = mode == 0 ? full0 : full1;
  uint32_t count = mode == 0 ? 6 : 10;
  int64_t floats = (int64_t)(length / 4);
  float *base = (float *)data, *p[10];
  for (uint32_t i = 0; i < count; i++) {
    napi_value e;
    int64_t off;
    if (napi_get_element(env, argv[2], i, &e) != napi_ok || !get_i64(env, e, &off) || off < 0 ||
        (off & 3) || off / 4 + (full[i] ? rows * c : c) > floats) {
      napi_throw_range_error(env, "MODELSMITH_NATIVE_BLAS", "batchNorm: operand outside the heap");
      return NULL;
    }
    p[i] = base + off / 4;
  }
  double *s = malloc((size_t)(2 * c) * sizeof(double));
  float *a = malloc((size_t)(3 * c) * sizeof(float));
  if (!s || !a) {
    free(s);
    free(a);
    napi_throw_error(env, "MODELSMITH_NATIVE_BLAS", "batchNorm: out of memory");
    return NULL;
  }
  float *b = a + c, *e = a + 2 * c;
  double m = (double)rows;
  if (mode == 0) {
    float *x = p[0], *gamma = p[1], *beta = p[2], *y = p[3], *mean = p[4], *var = p[5];
    bn_stats(x, rows, c, s, s + c);
    for (int64_t j = 0; j < c; j++) {
      double d = s[j] / m, v = s[c + j] / m - d * d;
      if (v < 0) v = 0;
      double mu = (double)x[j] + d, scale = (double)gamma[j] / sqrt(v + eps);
      mean[j] = (float)mu;
      var[j] = (float)v;
      a[j] = (float)scale;
      b[j] = (float)((double)beta[j] - mu * scale);
    }
    scale_shift(x, y, rows, c, a, b);
  } else {
    float *x = p[0], *gamma = p[1], *mean = p[2], *var = p[3], *dy = p[4], *dmean = p[5];
    float *dvar = p[6], *dx = p[7], *dgamma = p[8], *dbeta = p[9];
    bn_grad_sums(dy, x, mean, rows, c, s, s + c);
    for (int64_t j = 0; j < c; j++) {
      double inv = 1 / sqrt((double)var[j] + eps), g = gamma[j], s1 = s[j], s2 = s[c + j];
      dbeta[j] = (float)s1;
      dgamma[j] = (float)(inv * s2);
      a[j] = (float)(g * inv);
      b[j] = (float)(2 * (double)dvar[j] / m - g * inv * inv * inv * s2 / m);
      e[j] = (float)((double)dmean[j] / m - g * inv * s1 / m);
    }
    bn_grad_dx(dy, x, mean, dx, rows, c, a, b, e);
  }
  free(s);
  free(a);
  return NULL;
}

typedef struct {
  int64_t n, h, w, c, ho, wo, fh, fw, sh, sw, pt, pl;
} pool_shape;

// Per output pixel: best[c] / at[c] = the first maximum of its window per channel (at: the window
// position, -1 when no value beats -inf), then dx at that position += dy. One pass over x.
VECTOR_CLONES static void max_pool_grad(const float *x, const float *dy, float *dx, const pool_shape *s,
                                        float *best, int32_t *at) {
  const int64_t c = s->c;
  for (int64_t b = 0; b < s->n; b++) {
    const float *xb = x + b * s->h * s->w * c;
    float *db = dx + b * s->h * s->w * c;
    for (int64_t oy = 0; oy < s->ho; oy++) {
      int64_t y0 = oy * s->sh - s->pt;
      int64_t ylo = y0 < 0 ? 0 : y0, yhi = y0 + s->fh > s->h ? s->h : y0 + s->fh;
      for (int64_t ox = 0; ox < s->wo; ox++) {
        int64_t x0 = ox * s->sw - s->pl;
        int64_t xlo = x0 < 0 ? 0 : x0, xhi = x0 + s->fw > s->w ? s->w : x0 + s->fw;
        for (int64_t j = 0; j < c; j++) {
          best[j] = -INFINITY;
          at[j] = -1;
        }
        for (int64_t iy = ylo; iy < yhi; iy++) {
          for (int64_t ix = xlo; ix < xhi; ix++) {
            const float *v = xb + (iy * s->w + ix) * c;
            int32_t pos = (int32_t)(iy * s->w + ix);
            for (int64_t j = 0; j < c; j++) {
              int better = v[j] > best[j];
              best[j] = better ? v[j] : best[j];
              at[j] = better ? pos : at[j];
            }
          }
        }
        const float *g = dy + ((b * s->ho + oy) * s->wo + ox) * c;
        for (int64_t j = 0; j < c; j++)
          if (at[j] >= 0) db[(int64_t)at[j] * c + j] += g[j];
      }
    }
  }
}

// y = the maximum of each window per channel (-inf for a window over padding only), as tfjs's cpu
// backend computes MaxPool (NaN never wins). NHWC x [n,h,w,c], y [n,ho,wo,c].
VECTOR_CLONES static void max_pool(const float *x, float *y, const pool_shape *s) {
  const int64_t c = s->c;
  for (int64_t b = 0; b < s->n; b++) {
    const float *xb = x + b * s->h * s->w * c;
    for (int64_t oy = 0; oy < s->ho; oy++) {
      int64_t y0 = oy * s->sh - s->pt;
      int64_t ylo = y0 < 0 ? 0 : y0, yhi = y0 + s->fh > s->h ? s->h : y0 + s->fh;
      for (int64_t ox = 0; ox < s->wo; ox++) {
        int64_t x0 = ox * s->sw - s->pl;
        int64_t xlo = x0 < 0 ? 0 : x0, xhi = x0 + s->fw > s->w ? s->w : x0 + s->fw;
        float *o = y + ((b * s->ho + oy) * s->wo + ox) * c;
        for (int64_t j = 0; j < c; j++) o[j] = -INFINITY;
        for (int64_t iy = ylo; iy < yhi; iy++)
          for (int64_t ix = xlo; ix < xhi; ix++) {
            const float *v = xb + (iy * s->w + ix) * c;
            for (int64_t j = 0; j < c; j++) o[j] = v[j] > o[j] ? v[j] : o[j];
          }
      }
    }
  }
}

// pool(heap, mode, x, dy_or_y, dx, shape[12]): mode 0 MaxPool forward (y = dy_or_y; dx unused),
// mode 1 MaxPoolGrad (dx = dy routed to the first maximum of each window, ties: the first in
// row-major window order, as tfjs's cpu backend does). NHWC x and dx [n,h,w,c], y / dy [n,ho,wo,c];
// shape [n, h, w, c, ho, wo, fh, fw, sh, sw, padTop, padLeft] (effective window, no dilation).
// Pointers are byte offsets into heap; extents are checked.
static napi_value Pool(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  void *data = NULL;
  size_t length = 0;
  if (!heap_call(env, info, 6, argv, "pool", &data, &length)) return NULL;
  int64_t mode, px, pg, pd, v[12];
  if (!get_i64(env, argv[1], &mode) || !get_i64(env, argv[2], &px) || !get_i64(env, argv[3], &pg) ||
      !get_i64(env, argv[4], &pd)) {
    napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "pool: numeric arguments expected");
    return NULL;
  }
  for (uint32_t i = 0; i < 12; i++) {
    napi_value e;
    if (napi_get_element(env, argv[5], i, &e) != napi_ok || !get_i64(env, e, &v[i])) {
      napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "pool: shape must be 12 integers");
      return NULL;
    }
  }
  pool_shape s = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]};
  int64_t floats = (int64_t)(length / 4);
  int64_t xs = s.n * s.h * s.w * s.c, gs = s.n * s.ho * s.wo * s.c;
  int bad = (mode != 0 && mode != 1) || s.n < 0 || s.h < 1 || s.w < 1 || s.c < 1 || s.ho < 0 ||
            s.wo < 0 || s.fh < 1 || s.fw < 1 || s.sh < 1 || s.sw < 1 || s.h * s.w > INT32_MAX ||
            (px & 3) || (pg & 3) || px < 0 || pg < 0 || px / 4 + xs > floats || pg / 4 + gs > floats ||
            (mode == 1 && ((pd & 3) || pd < 0 || pd / 4 + xs > floats));
  if (bad) {
    napi_throw_range_error(env, "MODELSMITH_NATIVE_BLAS", "pool: bad mode, shape or operand");
    return NULL;
  }
  float *base = (float *)data;
  if (mode == 0) {
    max_pool(base + px / 4, base + pg / 4, &s);
    return NULL;
  }
  float *dx = base + pd / 4;
  memset(dx, 0, (size_t)xs * sizeof(float));
  float *best = malloc((size_t)s.c * (sizeof(float) + sizeof(int32_t)));
  if (!best) {
    napi_throw_error(env, "MODELSMITH_NATIVE_BLAS", "pool: out of memory");
    return NULL;
  }
  max_pool_grad(base + px / 4, base + pg / 4, dx, &s, best, (int32_t *)(best + s.c));
  free(best);
  return NULL;
}

// One Adam step per element, in float32 in the order of the optimizer's tensor ops (train/optimizers.ts):
// g += l2 * var (coupled decay); m' = b1 m + c1 g; v' = b2 v + c2 g^2; var' = var - step * m' /
// (sqrt(v' / bc2) + eps) - decay * var (decoupled decay). Outputs may not alias inputs (restrict: the
// 7 pointers are too many for the vectorizer's run-time alias checks). Without decay
// (l2 = decay = 0) the decay terms add zeros (finite parameters): the loop stays branch-free (SIMD).
VECTOR_CLONES static void adam_update(const float *restrict var, const float *restrict m,
                                      const float *restrict v, const float *restrict g,
                                      float *restrict ovar, float *restrict om, float *restrict ov,
                                      int64_t n, const float *k) {
  const float b1 = k[0], c1 = k[1], b2 = k[2], c2 = k[3], bc2 = k[4], eps = k[5], step = k[6];
  const float l2 = k[7], decay = k[8];
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] + var[i] * l2;
    float mi = m[i] * b1 + gi * c1;
    float vi = v[i] * b2 + (gi * gi) * c2;
    float nx = var[i] - (mi / (sqrtf(vi / bc2) + eps)) * step;
    om[i] = mi;
    ov[i] = vi;
    ovar[i] = nx - var[i] * decay;
  }
}

// adam(heap, offsets[var, m, v, g, outVar, outM, outV], n, constants[b1, 1-b1, b2, 1-b2,
// 1-b2^t, eps, stepSize, l2, decay]): see adam_update. Offsets in bytes; extents are checked.
static napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  void *data = NULL;
  size_t length = 0;
  if (!heap_call(env, info, 4, argv, "adam", &data, &length)) return NULL;
  int64_t n;
  if (!get_i64(env, argv[2], &n) || n < 0) {
    napi_throw_range_error(env, "MODELSMITH_NATIVE_BLAS", "adam: bad element count");
    return NULL;
  }
  int64_t floats = (int64_t)(length / 4);
  float *base = (float *)data, *p[7];
  for (uint32_t i = 0; i < 7; i++) {
    napi_value e;
    int64_t off;
    if (napi_get_element(env, argv[1], i, &e) != napi_ok || !get_i64(env, e, &off) || off < 0 ||
        (off & 3) || off / 4 + n > floats) {
      napi_throw_range_error(env, "MODELSMITH_NATIVE_BLAS", "adam: operand outside the heap");
      return NULL;
    }
    p[i] = base + off / 4;
  }
  float k[9];
  for (uint32_t i = 0; i < 9; i++) {
    napi_value e;
    double d;
    if (napi_get_element(env, argv[3], i, &e) != napi_ok || napi_get_value_double(env, e, &d) != napi_ok) {
      napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "adam: constants must be 9 numbers");
      return NULL;
    }
    k[i] = (float)d;
  }
  adam_update(p[0], p[1], p[2], p[3], p[4], p[5], p[6], n, k);
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n = 1;
  if (argc < 1 || !get_i64(env, argv[0], &n) || n < 1) {
    napi_throw_type_error(env, "MODELSMITH_NATIVE_BLAS", "setThreads takes a positive integer");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  return NULL;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  const char *cfg = openblas_get_config();
  char buf[256];
  snprintf(buf, sizeof buf, "%s; core %s", cfg, openblas_get_corename());
  CHECK(napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s));
  return s;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"conv", NULL, Conv, NULL, NULL, NULL, napi_default, NULL},
      {"batchNorm", NULL, BatchNorm, NULL, NULL, NULL, napi_default, NULL},
      {"pool", NULL, Pool, NULL, NULL, NULL, napi_default, NULL},
      {"adam", NULL, Adam, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, Config, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok ||
      napi_add_env_cleanup_hook(env, free_scratch, NULL) != napi_ok)
    return NULL;
  return exports;
}
