// Benchmarks of the shared solver machinery: the per-iteration cost of nesterov beyond the
// caller's gradient (what AWF and nonlinear CT pay for the solver itself), and the regularisers'
// operators (memory-bound).
#include "bench/harness.hpp"
#include "lumen/linalg.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"

using namespace lumen;

LUMEN_BENCH_CASE("solvers/nesterov-overhead",
                 "nesterov on object + probe blocks (complex64) with a one-pass gradient: solver cost per iteration") {
    const index_t H = bench.large() ? 2048 : 512, P = bench.large() ? 256 : 128;
    const Device dev = bench.device();
    Array<complex64> obj(Shape{H, H}, dev), probe(Shape{P, P}, dev);
    Array<complex64> t_obj(Shape{H, H}, dev), t_probe(Shape{P, P}, dev);
    fill(t_obj.view(), complex64(1.0f, 0.5f));
    fill(t_probe.view(), complex64(0.5f, -1.0f));
    // f = 0.5 ||x - t||^2 over both blocks: the cheapest possible gradient (one pass per block),
    // so the time left is the solver's own.
    ObjectiveGradientFn<complex64> f = [&](const std::vector<View<const complex64>>& x,
                                           const std::vector<View<complex64>>& g) {
        lin_comb(complex64(1.0f), x[0], complex64(-1.0f), t_obj, g[0]);
        lin_comb(complex64(1.0f), x[1], complex64(-1.0f), t_probe, g[1]);
        return 0.5 * (norm2_squared<complex64>(g[0]) + norm2_squared<complex64>(g[1]));
    };
    const int iters = 20;
    SolverOptions opt;
    opt.max_iterations = iters;
    Array<complex64> g_obj(Shape{H, H}, dev), g_probe(Shape{P, P}, dev);
    const double unknown_bytes = double(H * H + P * P) * sizeof(complex64);
    bench.time("copy of the unknowns (one pass)", [&] {
        copy(obj, g_obj.view());
        copy(probe, g_probe.view());
    }, {}, {2.0 * unknown_bytes, 0.0});
    // Per gradient: x and t read, g written, then g read again by the norm.
    bench.time("gradient only x20", [&] {
        for (int k = 0; k < iters; ++k) f({obj.view(), probe.view()}, {g_obj.view(), g_probe.view()});
    }, {}, {4.0 * unknown_bytes * iters, 0.0});
    bench.time("nesterov x20", [&] {
        nesterov<complex64>(f, {Block<complex64>{obj.view(), 0.5}, Block<complex64>{probe.view(), 0.5}},
                            NesterovOptions<complex64>{}, opt);
    }, {{"iterations/s", double(iters)}});
    const double per_iter = (bench.median_of("nesterov x20") - bench.median_of("gradient only x20")) / iters;
    bench.figure("nesterov x20", "solver time per iteration beyond the gradient (ms)", per_iter * 1e3);
    const double pass = bench.median_of("copy of the unknowns (one pass)");
    if (pass > 0) bench.figure("nesterov x20", "that time in copies of the unknowns", per_iter / pass);
}

LUMEN_BENCH_CASE("solvers/finite-difference", "3-D gradient and its adjoint on a float volume (Gvox/s)") {
    const index_t n = bench.large() ? 512 : 128;
    const Shape shape{n, n, n};
    LinOpPtr<float> D = finite_difference<float>(shape, 3, bench.device());
    Array<float> x(shape, bench.device()), g(D->range_shape(), bench.device());
    const double vox = double(shape.size()) * 1e-9;
    // Least traffic per voxel: gradient reads 1 float and writes 3, the adjoint the reverse; the
    // total variation reads 1 (a reduction).
    const double nv = double(shape.size());
    bench.time("gradient", [&] { D->apply(x, g.view()); }, {{"Gvox/s", vox}}, {16.0 * nv, 3.0 * nv});
    bench.time("adjoint", [&] { D->apply_adjoint(g, x.view()); }, {{"Gvox/s", vox}}, {16.0 * nv, 6.0 * nv});
    bench.time("total variation", [&] { (void)total_variation<float>(x, 3, true); }, {{"Gvox/s", vox}},
               {4.0 * nv, 9.0 * nv});
}

LUMEN_BENCH_CASE("solvers/wavelet2d", "db2 wavelet, 4 levels, forward + inverse on complex64 images (Mpix/s)") {
    const Shape shape = bench.large() ? Shape{16, 640, 368} : Shape{4, 320, 320};
    LinOpPtr<complex64> W = wavelet2d<complex64>(shape, 4, bench.device());
    Array<complex64> x(shape, bench.device()), c(shape, bench.device());
    const double mpix = double(shape.size()) * 1e-6;
    // Least traffic: each level reads and writes its quarter of the previous one, 4/3 of the image
    // in all over the levels, in and out once. Filtering: 2 passes of 4 taps x 2 outputs, complex.
    const double bytes = 2.0 * (4.0 / 3.0) * double(shape.size()) * sizeof(complex64);
    const double flops = (4.0 / 3.0) * double(shape.size()) * 2.0 * 4.0 * 2.0 * 2.0;
    bench.time("forward", [&] { W->apply(x, c.view()); }, {{"Mpix/s", mpix}}, {bytes, flops});
    bench.time("inverse", [&] { W->apply_adjoint(c, x.view()); }, {{"Mpix/s", mpix}}, {bytes, flops});
}
