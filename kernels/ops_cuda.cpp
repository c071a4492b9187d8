// Tensor-facing wrappers of the CUDA kernels (see ops_cuda.h).
#include "kernels/ops_cuda.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "kernels/cuda/hb_cuda.h"

namespace hb::kernels::cuda {
namespace {

void check(cudaError_t e, const char* what) {
  TORCH_CHECK(e == cudaSuccess, what, ": ", cudaGetErrorString(e));
}
void need(const torch::Tensor& t, torch::ScalarType dt, const char* name) {
  TORCH_CHECK(t.defined() && t.is_cuda(), name, " must be a CUDA tensor");
  TORCH_CHECK(t.scalar_type() == dt, name, " has dtype ", t.scalar_type(), ", expected ", dt);
}
void need_contig(const torch::Tensor& t, torch::ScalarType dt, const char* name) {
  need(t, dt, name);
  TORCH_CHECK(t.is_contiguous(), name, " must be contiguous");
}
cudaStream_t stream() { return at::cuda::getCurrentCUDAStream().stream(); }

}  // namespace

int sm_count() {
  static int n = [] {
    int dev = 0, v = 0;
    cudaGetDevice(&dev);
    cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev);
    return v > 0 ? v : 132;
  }();
  return n;
}

void decode_attention(const torch::Tensor& q, const torch::Tensor& k_cache, const torch::Tensor& v_cache,
                      const torch::Tensor& slots, const torch::Tensor& lens, torch::Tensor& out, int64_t max_len,
                      int64_t window) {
  need_contig(q, torch::kBFloat16, "q");
  need_contig(k_cache, torch::kBFloat16, "k_cache");
  need_contig(v_cache, torch::kBFloat16, "v_cache");
  need_contig(slots, torch::kInt32, "slots");
  need_contig(lens, torch::kInt32, "lens");
  need_contig(out, torch::kBFloat16, "out");
  TORCH_CHECK(k_cache.dim() == 4 && v_cache.sizes() == k_cache.sizes(), "k/v cache must be [slots, Hkv, max_ctx, HD]");
  const int64_t B = slots.size(0), Hkv = k_cache.size(1), max_ctx = k_cache.size(2), HD = k_cache.size(3);
  TORCH_CHECK(q.numel() % (B * HD) == 0, "q does not match the batch and head dim");
  const int64_t Hq = q.numel() / (B * HD);
  TORCH_CHECK(Hq % Hkv == 0, "query heads must be a multiple of KV heads");
  TORCH_CHECK(out.numel() == B * Hq * HD, "out must be [B, Hq*HD]");
  TORCH_CHECK(max_len >= 1 && max_len <= max_ctx, "max_len must be in [1, max_ctx]");
  TORCH_CHECK(window >= 0 && window <= INT32_MAX, "window must be >= 0 (0 = full attention)");
  hb::cuda::DecodeAttnParams p{};
  // A row never attends to more than `window` keys: the splits are planned for that many.
  const int64_t attended = window > 0 ? std::min(max_len, window) : max_len;
  const auto plan = hb::cuda::decode_attention_plan(int(B), int(Hkv), int(Hq / Hkv), int(HD), int(attended), sm_count());
  const int64_t splits = plan.num_splits;
  auto f32 = q.options().dtype(torch::kFloat32);
  auto part_o = torch::empty({std::max<int64_t>(B, 1) * Hq * splits * HD}, f32);
  auto part_ml = torch::empty({std::max<int64_t>(B, 1) * Hq * splits * 2}, f32);
  p.q = q.data_ptr();
  p.k_cache = k_cache.data_ptr();
  p.v_cache = v_cache.data_ptr();
  p.slots = slots.data_ptr<int32_t>();
  p.lens = lens.data_ptr<int32_t>();
  p.part_o = part_o.data_ptr<float>();
  p.part_ml = part_ml.data_ptr<float>();
  p.out = out.data_ptr();
  p.B = int(B);
  p.Hq = int(Hq);
  p.Hkv = int(Hkv);
  p.HD = int(HD);
  p.max_ctx = int(max_ctx);
  p.split_len = plan.split_len;
  p.num_splits = int(splits);
  p.scale = float(1.0 / std::sqrt(double(HD)));
  p.window = int(window);
  check(hb::cuda::decode_attention(p, stream()), "decode_attention");
}

void rope_kv_write(const torch::Tensor& qkv, torch::Tensor& q_out, torch::Tensor& k_cache, torch::Tensor& v_cache,
                   const torch::Tensor& slots, const torch::Tensor& pos, const torch::Tensor& cos, const torch::Tensor& sin,
                   int64_t Hq, int64_t Hkv) {
  need_contig(qkv, torch::kBFloat16, "qkv");
  need_contig(q_out, torch::kBFloat16, "q_out");
  need_contig(k_cache, torch::kBFloat16, "k_cache");
  need_contig(v_cache, torch::kBFloat16, "v_cache");
  need_contig(slots, torch::kInt32, "slots");
  need_contig(pos, torch::kInt32, "pos");
  need_contig(cos, torch::kFloat32, "cos");
  need_contig(sin, torch::kFloat32, "sin");
  const int64_t T = qkv.size(0), HD = k_cache.size(3);
  TORCH_CHECK(qkv.size(1) == (Hq + 2 * Hkv) * HD, "qkv width must be (Hq+2Hkv)*HD");
  TORCH_CHECK(k_cache.size(1) == Hkv, "k_cache heads");
  TORCH_CHECK(slots.size(0) == T && pos.size(0) == T, "slots/pos must have one entry per row");
  TORCH_CHECK(cos.size(1) == HD / 2, "rope table width");
  hb::cuda::RopeKVParams p{qkv.data_ptr(), q_out.data_ptr(), k_cache.data_ptr(), v_cache.data_ptr(),
                           slots.data_ptr<int32_t>(), pos.data_ptr<int32_t>(), cos.data_ptr<float>(), sin.data_ptr<float>(),
                           int(T), int(Hq), int(Hkv), int(HD), int(k_cache.size(2))};
  check(hb::cuda::rope_kv_write(p, stream()), "rope_kv_write");
}

std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t max_pos, int64_t hd, double theta, torch::Device device) {
  const int64_t half = hd / 2;
  auto idx = torch::arange(0, half, torch::dtype(torch::kFloat64));
  auto inv_freq = torch::pow(theta, -2.0 * idx / double(hd));
  auto ang = torch::arange(0, max_pos, torch::dtype(torch::kFloat64)).unsqueeze(1) * inv_freq.unsqueeze(0);
  return {torch::cos(ang).to(torch::kFloat32).contiguous().to(device), torch::sin(ang).to(torch::kFloat32).contiguous().to(device)};
}

void rms_norm_residual(torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& w, torch::Tensor& out, double eps) {
  need_contig(residual, torch::kFloat32, "residual");
  need_contig(w, torch::kBFloat16, "w");
  need_contig(out, torch::kBFloat16, "out");
  if (delta.defined()) {
    need_contig(delta, torch::kBFloat16, "delta");
    TORCH_CHECK(delta.numel() == residual.numel(), "delta must match residual");
  }
  const int64_t H = residual.size(-1), T = residual.numel() / H;
  TORCH_CHECK(w.numel() == H && out.numel() == residual.numel(), "rms_norm shapes");
  hb::cuda::RmsNormParams p{residual.data_ptr<float>(), delta.defined() ? delta.data_ptr() : nullptr, w.data_ptr(),
                            out.data_ptr(), int(T), int(H), float(eps)};
  check(hb::cuda::rms_norm_residual(p, stream()), "rms_norm_residual");
}

void swiglu(const torch::Tensor& gate_up, torch::Tensor& out) {
  need_contig(gate_up, torch::kBFloat16, "gate_up");
  need_contig(out, torch::kBFloat16, "out");
  const int64_t T = gate_up.size(0), I = gate_up.size(1) / 2;
  TORCH_CHECK(out.numel() == T * I, "swiglu out must be [T, I]");
  check(hb::cuda::swiglu(gate_up.data_ptr(), out.data_ptr(), int(T), int(I), stream()), "swiglu");
}

namespace {
int g_gemv_max_rows = 1;
}
void set_gemv_max_rows(int rows) { g_gemv_max_rows = std::max(0, std::min(rows, hb::cuda::kGemvMaxRows)); }

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w) {
  const bool fits = x.dim() == 2 && w.dim() == 2 && x.is_cuda() && x.scalar_type() == torch::kBFloat16 &&
                    w.scalar_type() == torch::kBFloat16 && x.size(0) >= 1 && x.size(0) <= g_gemv_max_rows &&
                    x.size(1) == w.size(1) && x.stride(1) == 1 && w.stride(1) == 1 && x.size(1) % 8 == 0 &&
                    x.stride(0) % 8 == 0 && w.stride(0) % 8 == 0 &&
                    reinterpret_cast<uintptr_t>(x.data_ptr()) % 16 == 0 && reinterpret_cast<uintptr_t>(w.data_ptr()) % 16 == 0;
  if (!fits) return at::linear(x, w);
  auto y = torch::empty({x.size(0), w.size(0)}, x.options());
  hb::cuda::GemvParams p{};
  p.x = x.data_ptr();
  p.ldx = x.stride(0);
  p.w = w.data_ptr();
  p.ldw = w.stride(0);
  p.y = y.data_ptr();
  p.ldy = y.stride(0);
  p.M = int(x.size(0));
  p.N = int(w.size(0));
  p.K = int(x.size(1));
  check(hb::cuda::gemv(p, stream()), "gemv");
  return y;
}

bool fused_gemv(int64_t rows) { return rows == 1 && g_gemv_max_rows >= 1; }

namespace {

// The GEMV parameters of one fused projection: w [N, K] bf16, one row.
hb::cuda::GemvParams fused_params(const torch::Tensor& w, int64_t K) {
  TORCH_CHECK(g_gemv_max_rows >= 1, "fused projection with the GEMV turned off");
  need(w, torch::kBFloat16, "w");
  TORCH_CHECK(w.dim() == 2 && w.size(1) == K && w.stride(1) == 1 && K % 8 == 0 && w.stride(0) % 8 == 0,
              "fused projection: w must be [N, K] with K % 8 == 0 and rows contiguous");
  hb::cuda::GemvParams p{};
  p.w = w.data_ptr();
  p.ldw = w.stride(0);
  p.M = 1;
  p.N = int(w.size(0));
  p.K = int(K);
  return p;
}

void need_residual_row(const torch::Tensor& residual, int64_t n) {
  need_contig(residual, torch::kFloat32, "residual");
  TORCH_CHECK(residual.numel() == n, "residual must hold one row of ", n, " values");
}

}  // namespace

torch::Tensor norm_linear(const torch::Tensor& residual, const torch::Tensor& norm_w, double eps, const torch::Tensor& w) {
  const int64_t K = residual.size(-1);
  need_residual_row(residual, K);
  need_contig(norm_w, torch::kBFloat16, "norm_w");
  TORCH_CHECK(norm_w.numel() == K, "norm_w must match the residual row");
  auto p = fused_params(w, K);
  auto y = torch::empty({1, w.size(0)}, w.options());
  p.input = hb::cuda::GemvInput::rms_norm;
  p.x_res = residual.data_ptr<float>();
  p.norm_w = norm_w.data_ptr();
  p.eps = float(eps);
  p.y = y.data_ptr();
  p.ldy = y.stride(0);
  check(hb::cuda::gemv(p, stream()), "gemv (rms_norm input)");
  return y;
}

void linear_add_(const torch::Tensor& x, const torch::Tensor& w, torch::Tensor& residual) {
  need(x, torch::kBFloat16, "x");
  TORCH_CHECK(x.dim() == 2 && x.size(0) == 1 && x.stride(1) == 1, "linear_add_: x must be one row");
  need_residual_row(residual, w.size(0));
  auto p = fused_params(w, x.size(1));
  p.x = x.data_ptr();
  p.ldx = x.stride(0);
  p.y_res = residual.data_ptr<float>();
  check(hb::cuda::gemv(p, stream()), "gemv (residual add)");
}

void swiglu_linear_add_(const torch::Tensor& gate_up, const torch::Tensor& w, torch::Tensor& residual) {
  need_contig(gate_up, torch::kBFloat16, "gate_up");
  TORCH_CHECK(gate_up.dim() == 2 && gate_up.size(0) == 1 && gate_up.size(1) % 2 == 0, "swiglu_linear_add_: gate_up must be [1, 2K]");
  need_residual_row(residual, w.size(0));
  auto p = fused_params(w, gate_up.numel() / 2);
  p.input = hb::cuda::GemvInput::swiglu;
  p.x = gate_up.data_ptr();
  p.y_res = residual.data_ptr<float>();
  check(hb::cuda::gemv(p, stream()), "gemv (swiglu input, residual add)");
}

void m2_scan(const M2Tensors& w, torch::Tensor& conv_state, torch::Tensor& ssm_state, const torch::Tensor& cu_seqlens,
             const torch::Tensor& slots, int64_t dxb, torch::Tensor& y) {
  need(w.proj, torch::kBFloat16, "proj");
  need(w.dt, torch::kBFloat16, "dt");
  TORCH_CHECK(w.proj.stride(1) == 1 && w.dt.stride(1) == 1, "proj/dt rows must be contiguous");
  need_contig(w.dt_bias2, torch::kFloat32, "dt_bias2");
  need_contig(w.conv_w, torch::kFloat32, "conv_w");
  if (w.conv_b.defined()) need_contig(w.conv_b, torch::kFloat32, "conv_b");
  need_contig(w.A2, torch::kFloat32, "A2");
  need_contig(w.D, torch::kFloat32, "D");
  need_contig(conv_state, torch::kBFloat16, "conv_state");
  need_contig(ssm_state, torch::kFloat32, "ssm_state");
  need_contig(cu_seqlens, torch::kInt32, "cu_seqlens");
  need_contig(slots, torch::kInt32, "slots");
  need_contig(y, torch::kBFloat16, "y");
  const int64_t di = w.A2.size(0), N = w.A2.size(1), K = w.conv_w.size(1);
  TORCH_CHECK(ssm_state.dim() == 4 && ssm_state.size(1) == N / 4 && ssm_state.size(2) == di && ssm_state.size(3) == 4,
              "ssm_state must be [slots, N/4, di, 4]");
  TORCH_CHECK(conv_state.dim() == 3 && conv_state.size(1) == K - 1 && conv_state.size(2) == di, "conv_state must be [slots, K-1, di]");
  TORCH_CHECK(w.proj.size(1) >= 2 * di + 2 * dxb, "proj is too narrow");
  TORCH_CHECK(cu_seqlens.size(0) == slots.size(0) + 1, "cu_seqlens must have nseq+1 entries");
  hb::cuda::M2Params p{};
  p.proj = w.proj.data_ptr();
  p.ld_proj = w.proj.stride(0);
  p.dt = w.dt.data_ptr();
  p.ld_dt = w.dt.stride(0);
  p.dt_bias2 = w.dt_bias2.data_ptr<float>();
  p.conv_w = w.conv_w.data_ptr<float>();
  p.conv_b = w.conv_b.defined() ? w.conv_b.data_ptr<float>() : nullptr;
  p.A2 = w.A2.data_ptr<float>();
  p.D = w.D.data_ptr<float>();
  p.conv_state = conv_state.data_ptr();
  p.ssm_state = ssm_state.data_ptr<float>();
  p.cu_seqlens = cu_seqlens.data_ptr<int32_t>();
  p.slots = slots.data_ptr<int32_t>();
  p.y = y.data_ptr();
  p.nseq = int(slots.size(0));
  p.di = int(di);
  p.dxb = int(dxb);
  p.N = int(N);
  p.K = int(K);
  p.T = int(w.proj.size(0));  // == nseq selects the decode kernel (it verifies cu_seqlens on the device)
  TORCH_CHECK(y.size(0) == w.proj.size(0) && w.dt.size(0) == w.proj.size(0), "proj, dt and y must have T rows");
  torch::Tensor scratch;  // prefill only (never inside a decode graph): the chunked parallel scan's scratch
  if (p.T > p.nseq && K == 4 && N % 4 == 0) {
    const auto bytes = hb::cuda::m2_prefill_scratch_bytes(p.T, p.nseq, p.di, p.N, p.K);
    scratch = torch::empty({int64_t(bytes)}, w.proj.options().dtype(torch::kUInt8));
    p.scratch = scratch.data_ptr();
  }
  check(hb::cuda::m2_scan(p, stream()), "m2_scan (supported: d_state 4/8/16/32, d_conv 4)");
}

torch::Tensor ssm_state_from_canonical(const torch::Tensor& t) {
  auto s = t.sizes().vec();
  const int64_t N = s.back(), di = s[s.size() - 2];
  std::vector<int64_t> v(s.begin(), s.end() - 2);
  v.insert(v.end(), {di, N / 4, 4});
  return t.reshape(v).transpose(-3, -2).contiguous();
}

torch::Tensor ssm_state_to_canonical(const torch::Tensor& t) {
  auto s = t.sizes().vec();
  const int64_t di = s[s.size() - 2], n4 = s[s.size() - 3];
  std::vector<int64_t> v(s.begin(), s.end() - 3);
  v.insert(v.end(), {di, n4 * 4});
  return t.transpose(-3, -2).contiguous().reshape(v);
}

namespace {
hb::cuda::SampleParams sample_params(const torch::Tensor& logits, const torch::Tensor& step, torch::Tensor& tokens) {
  TORCH_CHECK(logits.is_cuda() && logits.dim() == 2 && logits.stride(1) == 1, "logits must be a CUDA [B, V] tensor with contiguous rows");
  TORCH_CHECK(logits.scalar_type() == torch::kBFloat16 || logits.scalar_type() == torch::kFloat32, "logits must be bf16 or fp32");
  TORCH_CHECK(logits.size(1) >= 1 && logits.size(1) <= 262144, "sample: V must be in [1, 262144], got ", logits.size(1));
  need_contig(tokens, torch::kInt64, "tokens");
  TORCH_CHECK(tokens.numel() == logits.size(0), "tokens must have one entry per logits row");
  if (step.defined()) need_contig(step, torch::kInt64, "step");
  hb::cuda::SampleParams p{};
  p.logits = logits.data_ptr();
  p.logits_fp32 = logits.scalar_type() == torch::kFloat32;
  p.ld = logits.stride(0);
  p.B = int(logits.size(0));
  p.V = int(logits.size(1));
  p.step = step.defined() ? step.data_ptr<int64_t>() : nullptr;
  p.tokens = tokens.data_ptr<int64_t>();
  return p;
}
}  // namespace

void sample(const torch::Tensor& logits, const SampleRows& rows, const torch::Tensor& step, torch::Tensor& tokens,
            torch::Tensor* logprob) {
  auto p = sample_params(logits, step, tokens);
  const int64_t B = logits.size(0);
  auto row = [&](const torch::Tensor& t, torch::ScalarType dt, const char* name) {
    need_contig(t, dt, name);
    TORCH_CHECK(t.numel() == B, name, " must have one entry per logits row (", B, "), got ", t.numel());
  };
  row(rows.temperature, torch::kFloat32, "temperature");
  row(rows.top_k, torch::kInt32, "top_k");
  row(rows.top_p, torch::kFloat32, "top_p");
  row(rows.min_p, torch::kFloat32, "min_p");
  row(rows.seed, torch::kInt64, "seed");
  p.temperature = rows.temperature.data_ptr<float>();
  p.top_k = rows.top_k.data_ptr<int32_t>();
  p.top_p = rows.top_p.data_ptr<float>();
  p.min_p = rows.min_p.data_ptr<float>();
  p.seed = rows.seed.data_ptr<int64_t>();
  if (rows.banned.defined() && rows.banned.numel() > 0) {
    need_contig(rows.banned, torch::kInt32, "banned");
    TORCH_CHECK(rows.banned.dim() == 2 && rows.banned.size(0) == B, "banned must be [B, n]");
    p.banned = rows.banned.data_ptr<int32_t>();
    p.n_banned = int(rows.banned.size(1));
  }
  if (logprob) {
    need_contig(*logprob, torch::kFloat32, "logprob");
    TORCH_CHECK(logprob->numel() == B, "logprob must have one entry per logits row");
    p.logprob = logprob->data_ptr<float>();
  }
  check(hb::cuda::sample(p, stream()), "sample");
}

void sample(const torch::Tensor& logits, double temperature, uint64_t seed, const torch::Tensor& step, torch::Tensor& tokens) {
  auto p = sample_params(logits, step, tokens);
  p.temperature_all = float(temperature);
  p.seed_all = seed;
  check(hb::cuda::sample(p, stream()), "sample");
}

namespace {
// Best of 5 windows of `iters` calls (ms per call): the ceiling is what the device can do, not an average
// that includes a clock ramp or a neighbour's burst.
template <class F>
double best_ms(F&& f, int iters) {
  f();  // warm-up (clocks, allocator, cuBLAS heuristics)
  double best = 1e30;
  for (int w = 0; w < 5; ++w) {
    at::cuda::CUDAEvent e0(cudaEventDefault), e1(cudaEventDefault);
    e0.record(at::cuda::getCurrentCUDAStream());
    for (int i = 0; i < iters; ++i) f();
    e1.record(at::cuda::getCurrentCUDAStream());
    e1.synchronize();
    best = std::min(best, double(e0.elapsed_time(e1)) / iters);
  }
  return best;
}
}  // namespace

DeviceCeiling measure_device_ceiling(int64_t buffer_bytes) {
  DeviceCeiling r;
  r.buffer_bytes = buffer_bytes / 16 * 16;
  auto u8 = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kUInt8);
  auto src = torch::ones({r.buffer_bytes}, u8);
  auto sink = torch::zeros({1}, u8.dtype(torch::kInt32));
  const double read_ms = best_ms([&] {
    check(hb::cuda::stream_read(src.data_ptr(), r.buffer_bytes, reinterpret_cast<unsigned*>(sink.data_ptr()), sm_count(),
                                stream()),
          "stream_read");
  }, 5);
  r.read_tbs = double(r.buffer_bytes) / (read_ms * 1e-3) / 1e12;
  {
    auto dst = torch::empty_like(src);
    const double copy_ms = best_ms([&] { dst.copy_(src); }, 5);
    r.copy_tbs = 2.0 * double(r.buffer_bytes) / (copy_ms * 1e-3) / 1e12;
  }
  src = torch::Tensor();
  const int64_t n = 8192;
  auto a = torch::randn({n, n}, torch::TensorOptions().device(torch::kCUDA).dtype(torch::kBFloat16));
  auto b = torch::randn({n, n}, a.options());
  auto c = torch::empty({n, n}, a.options());
  const double mm_ms = best_ms([&] { at::mm_out(c, a, b); }, 10);
  r.bf16_tflops = 2.0 * double(n) * double(n) * double(n) / (mm_ms * 1e-3) / 1e12;
  return r;
}

}  // namespace hb::kernels::cuda
