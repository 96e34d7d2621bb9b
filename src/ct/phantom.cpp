// Ellipsoid phantoms: the published 3-D Shepp-Logan table, metal inserts, voxelisation and
// analytic projection (math in kernels/ct/phantom.hpp).
#include "lumen/ct/phantom.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ct/phantom.hpp"
#include "src/ct/frames.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {


Ellipsoid make(double value, double a, double b, double c, double x0, double y0, double z0, double phi, double theta,
               double psi) {
    Ellipsoid e;
    e.value = value;
    e.semi[0] = a;
    e.semi[1] = b;
    e.semi[2] = c;
    e.centre[0] = x0;
    e.centre[1] = y0;
    e.centre[2] = z0;
    e.euler_deg[0] = phi;
    e.euler_deg[1] = theta;
    e.euler_deg[2] = psi;
    return e;
}

std::vector<kern::ct::PreparedEllipsoid> prepare(const std::vector<Ellipsoid>& phantom) {
    std::vector<kern::ct::PreparedEllipsoid> out;
    for (const Ellipsoid& e : phantom) {
        for (double s : e.semi)
            require(std::isfinite(s) && s > 0.0, "phantom: ellipsoid semi-axes must be positive");
        const double phi = e.euler_deg[0] * kPi / 180.0, theta = e.euler_deg[1] * kPi / 180.0,
                     psi = e.euler_deg[2] * kPi / 180.0;
        auto rz = [](double a, double m[9]) {
            const double c = std::cos(a), s = std::sin(a);
            const double r[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
            for (int i = 0; i < 9; ++i) m[i] = r[i];
        };
        auto rx = [](double a, double m[9]) {
            const double c = std::cos(a), s = std::sin(a);
            const double r[9] = {1, 0, 0, 0, c, -s, 0, s, c};
            for (int i = 0; i < 9; ++i) m[i] = r[i];
        };
        auto mul = [](const double a[9], const double b[9], double out_m[9]) {
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 3; ++j) {
                    double s = 0;
                    for (int k = 0; k < 3; ++k) s += a[3 * i + k] * b[3 * k + j];
                    out_m[3 * i + j] = s;
                }
        };
        double a[9], b[9], c[9], t[9], r[9];
        rz(phi, a);
        rx(theta, b);
        rz(psi, c);
        mul(a, b, t);
        mul(t, c, r);
        kern::ct::PreparedEllipsoid p{};
        p.value = e.value;
        // M = diag(1 / semi) R^T: row i of M is column i of R over semi_i.
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) p.m[3 * i + j] = r[3 * j + i] / e.semi[i];
        for (int i = 0; i < 3; ++i) p.c[i] = e.centre[i];
        out.push_back(p);
    }
    return out;
}

// Device copy of POD records as raw floats/doubles.
template <class T>
Array<double> upload(const std::vector<T>& records, Device device) {
    static_assert(sizeof(T) % sizeof(double) == 0, "records are made of doubles");
    const std::size_t n = records.size() * sizeof(T) / sizeof(double);
    std::vector<double> flat(n);
    if (n) std::memcpy(flat.data(), records.data(), n * sizeof(double));
    return Array<double>::from(flat, Shape{index_t(std::max<std::size_t>(n, 1))}).to(device);
}

}  // namespace

std::vector<Ellipsoid> shepp_logan_table(bool modified) {
    // Toft's 3-D Shepp-Logan table (ct.md section 7): A (modified, original), semi-axes a, b, c,
    // centre x0, y0, z0, Euler angles phi, theta, psi in degrees.
    struct Row {
        double am, ao, a, b, c, x0, y0, z0, phi, theta, psi;
    };
    static const Row rows[] = {
        {1.0, 1.0, 0.69, 0.92, 0.81, 0, 0, 0, 0, 0, 0},
        {-0.8, -0.98, 0.6624, 0.874, 0.78, 0, -0.0184, 0, 0, 0, 0},
        {-0.2, -0.02, 0.11, 0.31, 0.22, 0.22, 0, 0, -18, 0, 10},
        {-0.2, -0.02, 0.16, 0.41, 0.28, -0.22, 0, 0, 18, 0, 10},
        {0.1, 0.01, 0.21, 0.25, 0.41, 0, 0.35, -0.15, 0, 0, 0},
        {0.1, 0.01, 0.046, 0.046, 0.05, 0, 0.1, 0.25, 0, 0, 0},
        {0.1, 0.01, 0.046, 0.046, 0.05, 0, -0.1, 0.25, 0, 0, 0},
        {0.1, 0.01, 0.046, 0.023, 0.05, -0.08, -0.605, 0, 0, 0, 0},
        {0.1, 0.01, 0.023, 0.023, 0.02, 0, -0.606, 0, 0, 0, 0},
        {0.1, 0.01, 0.023, 0.046, 0.02, 0.06, -0.605, 0, 0, 0, 0},
    };
    std::vector<Ellipsoid> out;
    for (const Row& r : rows)
        out.push_back(make(modified ? r.am : r.ao, r.a, r.b, r.c, r.x0, r.y0, r.z0, r.phi, r.theta, r.psi));
    return out;
}

std::vector<Ellipsoid> scale_phantom(const std::vector<Ellipsoid>& table, double half_extent_mm, double mu_per_unit) {
    require(std::isfinite(half_extent_mm) && half_extent_mm > 0.0, "phantom: the half extent must be positive");
    require(std::isfinite(mu_per_unit), "phantom: the attenuation scale must be finite");
    std::vector<Ellipsoid> out = table;
    for (Ellipsoid& e : out) {
        e.value *= mu_per_unit;
        for (int j = 0; j < 3; ++j) {
            e.semi[j] *= half_extent_mm;
            e.centre[j] *= half_extent_mm;
        }
    }
    return out;
}

std::vector<Ellipsoid> metal_inserts(double value) {
    // Inside the brain region of the central slices, away from the small Shepp-Logan features,
    // on a diagonal so that the streak between them crosses the phantom.
    return {make(value, 0.09, 0.09, 0.14, -0.30, 0.38, 0.02, 0, 0, 0),
            make(value, 0.07, 0.11, 0.12, 0.36, -0.30, -0.03, 30, 0, 0)};
}

Array<float> voxelize(const std::vector<Ellipsoid>& phantom, const VolumeGrid& grid, int supersample, Device device) {
    require(supersample >= 1 && supersample <= 16, "voxelize: supersample must be 1..16, got " + std::to_string(supersample));
    require(grid.nx > 0 && grid.ny > 0 && grid.nz > 0, "voxelize: the volume grid is empty");
    const auto prepared = prepare(phantom);
    Array<double> ell = upload(prepared, device);
    Array<float> out(grid.shape(), device);
    kern::ct::VoxelizeF f{};
    f.ell = reinterpret_cast<const kern::ct::PreparedEllipsoid*>(ell.data());
    f.n_ell = int(prepared.size());
    f.nx = int(grid.nx);
    f.ny = int(grid.ny);
    f.nz = int(grid.nz);
    f.origin[0] = grid.offset_x - 0.5 * double(grid.nx - 1) * grid.voxel_x;
    f.origin[1] = grid.offset_y - 0.5 * double(grid.ny - 1) * grid.voxel_y;
    f.origin[2] = grid.offset_z - 0.5 * double(grid.nz - 1) * grid.voxel_z;
    f.vox[0] = grid.voxel_x;
    f.vox[1] = grid.voxel_y;
    f.vox[2] = grid.voxel_z;
    f.s = supersample;
    f.out = out.data();
    detail::for_each(device, out.size(), f);
    return out;
}

Array<float> project_analytic(const std::vector<Ellipsoid>& phantom, const Geometry& geometry, int subsample,
                              bool transmission, Device device) {
    geometry.validate();
    require(subsample >= 1 && subsample <= 16, "project_analytic: subsample must be 1..16, got " + std::to_string(subsample));
    const auto prepared = prepare(phantom);
    Array<double> ell = upload(prepared, device);
    std::vector<kern::ct::WorldView> views(geometry.angles.size());
    for (std::size_t i = 0; i < views.size(); ++i) {
        const detail::ct::ViewFrame f = detail::ct::frame_of(geometry, geometry.angles[i]);
        const detail::ct::V3 p0 = detail::ct::first_pixel(geometry, f);
        const detail::ct::V3 su = geometry.du * f.eu, sv = geometry.dv * f.ev;
        const detail::ct::V3 src = geometry.type == BeamType::cone ? f.source : f.beam;
        kern::ct::WorldView& w = views[i];
        const detail::ct::V3* in[4] = {&src, &p0, &su, &sv};
        double* out_v[4] = {w.src, w.det0, w.su, w.sv};
        for (int k = 0; k < 4; ++k) {
            out_v[k][0] = in[k]->x;
            out_v[k][1] = in[k]->y;
            out_v[k][2] = in[k]->z;
        }
    }
    Array<double> dv = upload(views, device);
    Array<float> out(geometry.projection_shape(), device);
    kern::ct::AnalyticProjectF f{};
    f.ell = reinterpret_cast<const kern::ct::PreparedEllipsoid*>(ell.data());
    f.n_ell = int(prepared.size());
    f.views = reinterpret_cast<const kern::ct::WorldView*>(dv.data());
    f.nu = int(geometry.nu);
    f.nv = int(geometry.nv);
    f.cone = geometry.type == BeamType::cone;
    f.s = subsample;
    f.transmission = transmission;
    f.out = out.data();
    detail::for_each(device, out.size(), f);
    return out;
}

}  // namespace lumen::ct
