// Simulated CT scans (see include/lumen/ct/simulate.hpp).
#include "lumen/ct/simulate.hpp"

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "lumen/ct/projector.hpp"
#include "src/poisson.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

using detail::num;

// frames x per-pixel mean (scalar), Poisson when noisy; one generator per frame.
Array<float> frames_of(index_t frames, index_t nv, index_t nu, double mean, bool noise, std::uint64_t seed) {
    Array<float> a(Shape{frames, nv, nu});
#pragma omp parallel for schedule(static)
    for (index_t f = 0; f < frames; ++f) {
        std::mt19937_64 rng(seed + 7919 * std::uint64_t(f));
        for (index_t p = 0; p < nv * nu; ++p) a[f * nv * nu + p] = noise ? detail::poisson_count(rng, mean) : float(mean);
    }
    return a;
}

}  // namespace

PhantomKind parse_phantom(const std::string& text) {
    if (text == "shepp-logan") return PhantomKind::shepp_logan;
    if (text == "metal") return PhantomKind::metal;
    invalid_option("SimulationOptions.phantom", "'" + text + "' is not a phantom; expected shepp-logan or metal");
}

const char* phantom_name(PhantomKind p) noexcept { return p == PhantomKind::metal ? "metal" : "shepp-logan"; }

void SimulationOptions::validate() const {
    require_option(size >= 4 && size <= 4096, "SimulationOptions.size", "must be 4..4096, got " + std::to_string(size));
    require_option(std::isfinite(voxel_mm) && voxel_mm > 0, "SimulationOptions.voxel_mm",
                   "must be positive, got " + num(voxel_mm));
    require_option(views >= 1 && views <= 100000, "SimulationOptions.views",
                   "must be 1..100000, got " + std::to_string(views));
    require_option(std::isfinite(arc_deg) && arc_deg > 0 && arc_deg <= 360.0, "SimulationOptions.arc_deg",
                   "must be in (0, 360] degrees, got " + num(arc_deg));
    require_option(std::isfinite(i0) && i0 > 0, "SimulationOptions.i0", "must be positive, got " + num(i0));
    require_option(std::isfinite(dark) && dark >= 0, "SimulationOptions.dark", "must be non-negative, got " + num(dark));
    require_option(flat_frames >= 1, "SimulationOptions.flat_frames",
                   "must be at least 1, got " + std::to_string(flat_frames));
    require_option(dark_frames >= 1, "SimulationOptions.dark_frames",
                   "must be at least 1, got " + std::to_string(dark_frames));
    require_option(subsample >= 1 && subsample <= 16, "SimulationOptions.subsample",
                   "must be 1..16, got " + std::to_string(subsample));
    require_option(supersample >= 1 && supersample <= 8, "SimulationOptions.supersample",
                   "must be 1..8, got " + std::to_string(supersample));
    require_option(std::isfinite(mu_scale) && mu_scale > 0, "SimulationOptions.mu_scale",
                   "must be positive, got " + num(mu_scale));
    require_option(std::isfinite(metal_mu) && metal_mu >= 0, "SimulationOptions.metal_mu",
                   "must be non-negative, got " + num(metal_mu));
    const std::pair<const char*, double> lengths[] = {
        {"SimulationOptions.dso_mm", dso_mm}, {"SimulationOptions.dsd_mm", dsd_mm}, {"SimulationOptions.du_mm", du_mm}};
    for (const auto& [field, v] : lengths)
        require_option(std::isfinite(v) && v >= 0, field, "must be non-negative (0: automatic), got " + num(v));
    require_option(nu >= 0, "SimulationOptions.nu", "must be non-negative (0: automatic), got " + std::to_string(nu));
    require_option(nv >= 0, "SimulationOptions.nv", "must be non-negative (0: automatic), got " + std::to_string(nv));
}

Geometry simulation_geometry(const SimulationOptions& o) {
    o.validate();
    Geometry g = default_cone_geometry(o.size, o.voxel_mm, o.views, o.arc_deg * kPi / 180.0);
    if (o.type == BeamType::parallel) {
        g.type = BeamType::parallel;
        g.dso = g.dsd = 0.0;
        g.du = g.dv = o.voxel_mm;
    }
    if (o.nu > 0) g.nu = o.nu;
    if (o.nv > 0) g.nv = o.nv;
    if (o.dso_mm > 0) g.dso = o.dso_mm;
    if (o.dsd_mm > 0) g.dsd = o.dsd_mm;
    if (o.type == BeamType::cone && (o.dso_mm > 0 || o.dsd_mm > 0) && o.du_mm <= 0) {
        // Re-fit the pitch so that the detector still covers the inscribed cylinder.
        const double r = 0.5 * double(o.size) * o.voxel_mm;
        require_option(g.dso > r, "SimulationOptions.dso_mm",
                       num(g.dso) + " mm must exceed the volume's radius (" + num(r) + " mm)");
        require_option(g.dsd > g.dso, "SimulationOptions.dsd_mm",
                       num(g.dsd) + " mm must exceed the source distance dso_mm (" + num(g.dso) + " mm)");
        g.du = g.dv = 2.0 * r * g.dsd / std::sqrt(g.dso * g.dso - r * r) / double(g.nu);
    }
    if (o.du_mm > 0) g.du = g.dv = o.du_mm;
    g.validate("simulate");
    return g;
}

std::vector<Ellipsoid> simulation_phantom(const SimulationOptions& o) {
    o.validate();
    std::vector<Ellipsoid> table = shepp_logan_table(true);
    if (o.phantom == PhantomKind::metal) {
        // Inserts are given in attenuation per mm; the table is in units of mu_scale.
        for (const Ellipsoid& e : metal_inserts(o.metal_mu / o.mu_scale)) table.push_back(e);
    }
    // The table spans [-1, 1]^3; 0.95 of the half-width keeps the phantom inside the volume and
    // inside the detector's field of view (the inscribed cylinder).
    return scale_phantom(table, 0.5 * double(o.size) * o.voxel_mm * 0.95, o.mu_scale);
}

Scan simulate(const SimulationOptions& o, Device device) {
    const Geometry g = simulation_geometry(o);
    const std::vector<Ellipsoid> phantom = simulation_phantom(o);
    Scan s;
    s.geometry = g;
    s.truth = voxelize(phantom, g.volume, o.supersample, device).to(Device::cpu);

    // Mean transmission per detector pixel.
    Array<float> t;
    if (o.analytic) {
        t = project_analytic(phantom, g, o.subsample, true, device).to(Device::cpu);
    } else {
        Array<float> truth_d = s.truth.to(device);
        Array<float> p(g.projection_shape(), device);
        Projector(g, device).apply(truth_d, p);
        t = p.to(Device::cpu);
        for (float& v : t) v = std::exp(-v);
    }

    // Counts: dark + I0 t, Poisson; one generator per view so that threads give the same result.
    s.data = Array<float>(g.projection_shape());
    const index_t per = g.nu * g.nv;
#pragma omp parallel for schedule(dynamic, 1)
    for (index_t v = 0; v < g.n_angles(); ++v) {
        std::mt19937_64 rng(o.seed * 1000003ULL + std::uint64_t(v));
        for (index_t p = 0; p < per; ++p) {
            const double mean = o.dark + o.i0 * double(t[v * per + p]);
            s.data[v * per + p] = o.noise ? detail::poisson_count(rng, mean) : float(mean);
        }
    }
    s.white = frames_of(o.flat_frames, g.nv, g.nu, o.dark + o.i0, o.noise, o.seed * 1000003ULL + 500000017ULL);
    s.dark = frames_of(o.dark_frames, g.nv, g.nu, o.dark, o.noise, o.seed * 1000003ULL + 900000011ULL);
    s.i0 = o.i0;
    return s;
}

std::map<std::string, std::string> simulation_attributes(const SimulationOptions& o) {
    return {{"simulated", "lumen-ct simulate"},
            {"phantom", phantom_name(o.phantom)},
            {"mu_scale_per_mm", num(o.mu_scale)},
            {"metal_mu_per_mm", o.phantom == PhantomKind::metal ? num(o.metal_mu) : std::string("none")},
            {"i0", num(o.i0)},
            {"dark", num(o.dark)},
            {"noise", o.noise ? "poisson" : "none"},
            {"seed", std::to_string(o.seed)},
            {"projection", o.analytic ? "analytic line integrals, " + std::to_string(o.subsample) + "x" +
                                            std::to_string(o.subsample) + " sub-rays per pixel"
                                      : "ray-driven projector on the voxelised truth"}};
}

}  // namespace lumen::ct
