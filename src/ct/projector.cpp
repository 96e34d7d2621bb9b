// The CT projector pair and the FDK back projector: per-view set-up in double on the host, the
// per-ray / per-voxel math in kernels/ct/projector.hpp run by OpenMP loops here or by the CUDA
// executor (kernels/ct/projector.cu).
#include "lumen/ct/projector.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ct/projector.hpp"
#include "src/ct/frames.hpp"
#include "src/ct/simd.hpp"
#include "lumen/linalg.hpp"
#include "src/executor.hpp"

namespace lumen::ct {

namespace {

using detail::ct::dot;
using detail::ct::first_pixel;
using detail::ct::frame_of;
using detail::ct::V3;
using detail::ct::ViewFrame;

// World point -> voxel index coordinates, and world vector -> index vector.
struct IndexMap {
    double o[3], v[3], h[3];  // offset, voxel size, (n - 1) / 2
    explicit IndexMap(const VolumeGrid& g)
        : o{g.offset_x, g.offset_y, g.offset_z}, v{g.voxel_x, g.voxel_y, g.voxel_z},
          h{0.5 * double(g.nx - 1), 0.5 * double(g.ny - 1), 0.5 * double(g.nz - 1)} {}
    void point(V3 p, float out[3]) const {
        const double w[3] = {p.x, p.y, p.z};
        for (int j = 0; j < 3; ++j) out[j] = float((w[j] - o[j]) / v[j] + h[j]);
    }
    void vec(V3 p, float out[3]) const {
        const double w[3] = {p.x, p.y, p.z};
        for (int j = 0; j < 3; ++j) out[j] = float(w[j] / v[j]);
    }
};

std::vector<kern::ct::RayView> ray_views(const Geometry& g) {
    const IndexMap map(g.volume);
    std::vector<kern::ct::RayView> out(g.angles.size());
    for (std::size_t i = 0; i < g.angles.size(); ++i) {
        const ViewFrame f = frame_of(g, g.angles[i]);
        kern::ct::RayView& rv = out[i];
        const V3 det0 = first_pixel(g, f);
        if (g.type == BeamType::cone) map.point(f.source, rv.src);
        else map.vec(f.beam, rv.src);
        map.point(det0, rv.det0);
        map.vec(g.du * f.eu, rv.step_u);
        map.vec(g.dv * f.ev, rv.step_v);
    }
    return out;
}

// Per view, the 3x4 matrix taking voxel index coordinates (ix, iy, iz, 1) to (un, vn, w) with
// detector pixel coordinates iu = un / w, iv = vn / w. Cone: w = U / dso, U = depth of the voxel
// along the central ray (FDK's weight is 1 / w^2). Parallel: w = 1 (third row unused).
std::vector<float> fdk_matrices(const Geometry& g) {
    std::vector<float> m(12 * g.angles.size());
    const double cu = 0.5 * double(g.nu - 1) - g.offset_u / g.du;
    const double cv = 0.5 * double(g.nv - 1) - g.offset_v / g.dv;
    const VolumeGrid& vg = g.volume;
    // X(i) = X0 + ix * ex + iy * ey + iz * ez
    const V3 x0{vg.offset_x - 0.5 * double(vg.nx - 1) * vg.voxel_x, vg.offset_y - 0.5 * double(vg.ny - 1) * vg.voxel_y,
                vg.offset_z - 0.5 * double(vg.nz - 1) * vg.voxel_z};
    const V3 ex{vg.voxel_x, 0, 0}, ey{0, vg.voxel_y, 0}, ez{0, 0, vg.voxel_z};
    for (std::size_t i = 0; i < g.angles.size(); ++i) {
        const ViewFrame f = frame_of(g, g.angles[i]);
        double row[3][4];
        // Each row is an affine function a . X + b of the world point, written in index space.
        auto set_row = [&](int r, V3 a, double b) {
            row[r][0] = dot(a, ex);
            row[r][1] = dot(a, ey);
            row[r][2] = dot(a, ez);
            row[r][3] = dot(a, x0) + b;
        };
        if (g.type == BeamType::cone) {
            // w = (X - S) . beam / dso; un = dsd / (dso du) (X - S) . eu + cu w; vn likewise.
            const V3 aw = (1.0 / g.dso) * f.beam;
            const double bw = -dot(f.source, aw);
            const double ku = g.dsd / (g.dso * g.du), kv = g.dsd / (g.dso * g.dv);
            const V3 au = ku * f.eu + cu * aw, av = kv * f.ev + cv * aw;
            set_row(0, au, -ku * dot(f.source, f.eu) + cu * bw);
            set_row(1, av, -kv * dot(f.source, f.ev) + cv * bw);
            set_row(2, aw, bw);
        } else {
            set_row(0, (1.0 / g.du) * f.eu, cu);
            set_row(1, (1.0 / g.dv) * f.ev, cv);
            set_row(2, V3{0, 0, 0}, 1.0);
        }
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c) m[12 * i + std::size_t(4 * r + c)] = float(row[r][c]);
    }
    return m;
}

// Below this much work (samples or voxel updates) a parallel region costs more than it saves.
constexpr double k_parallel_work = 2.0e5;

// Rays whose set-up the CPU back projector computes and keeps at once (56 bytes each with the
// value, streamed by every plane chunk, so a block stays in L2; each block costs three barriers).
// From 2048 to 131072 rays the time of 128^3 from 180 views did not change beyond noise on the
// 2-core dev VM under shared load.
constexpr index_t k_setup_block = 1 << 13;

kern::ct::VolumeDims dims_of(const VolumeGrid& g) {
    kern::ct::VolumeDims d{};
    d.n[0] = int(g.nx);
    d.n[1] = int(g.ny);
    d.n[2] = int(g.nz);
    d.vox[0] = float(g.voxel_x);
    d.vox[1] = float(g.voxel_y);
    d.vox[2] = float(g.voxel_z);
    d.stride[0] = 1;
    d.stride[1] = g.nx;
    d.stride[2] = g.nx * g.ny;
    return d;
}

void check_view(const char* what, const Shape& expected, const Shape& found, Device expected_dev, Device found_dev) {
    require(found == expected, std::string(what) + ": shape " + found.str() + " does not match the geometry's " +
                                   expected.str());
    require(found_dev == expected_dev, std::string(what) + ": the array is on the " + device_name(found_dev) +
                                           " but the projector is on the " + device_name(expected_dev));
}

}  // namespace

struct Projector::Impl {
    Geometry geometry;
    Device device = Device::cpu;
    Array<float> views;     // RayView records (12 floats each)
    Array<float> matrices;  // 12 floats per view
    kern::ct::VolumeDims dims{};
    bool cone = true;

    const kern::ct::RayView* rays() const { return reinterpret_cast<const kern::ct::RayView*>(views.data()); }
};

Projector::Projector(const Geometry& geometry, Device device) : impl_(std::make_unique<Impl>()) {
    geometry.validate();
    Impl& p = *impl_;
    p.geometry = geometry;
    p.device = device;
    p.cone = geometry.type == BeamType::cone;
    p.dims = dims_of(geometry.volume);
    static_assert(sizeof(kern::ct::RayView) == 12 * sizeof(float), "RayView is 12 packed floats");
    const std::vector<kern::ct::RayView> rv = ray_views(geometry);
    std::vector<float> flat(12 * rv.size());
    std::copy_n(reinterpret_cast<const float*>(rv.data()), flat.size(), flat.begin());
    p.views = Array<float>::from(flat, Shape{index_t(flat.size())}).to(device);
    const std::vector<float> m = fdk_matrices(geometry);
    p.matrices = Array<float>::from(m, Shape{index_t(m.size())}).to(device);
}

Projector::~Projector() = default;
Projector::Projector(Projector&&) noexcept = default;
Projector& Projector::operator=(Projector&&) noexcept = default;

const Geometry& Projector::geometry() const { return impl_->geometry; }
Shape Projector::domain_shape() const { return impl_->geometry.volume_shape(); }
Shape Projector::range_shape() const { return impl_->geometry.projection_shape(); }
Device Projector::device() const { return impl_->device; }

void Projector::apply(View<const float> volume, View<float> projections) const {
    const Impl& p = *impl_;
    check_view("CT forward projection (volume)", domain_shape(), volume.shape(), p.device, volume.device());
    check_view("CT forward projection (projections)", range_shape(), projections.shape(), p.device,
               projections.device());
    const kern::ct::ForwardProjectF f{p.rays(),    volume.data(),        projections.data(), p.dims,
                                      int(p.geometry.nu), int(p.geometry.nv), p.cone};
    const index_t n = projections.size();
    if (p.device == Device::cuda) {
        detail::for_each(Device::cuda, n, f);
        return;
    }
    // Rays of one detector row per task: neighbouring rays read neighbouring voxels (and run 8 to
    // an AVX2 instruction where the CPU has it).
    const index_t row = p.geometry.nu;
    const double work = double(n) * double(std::max({p.dims.n[0], p.dims.n[1], p.dims.n[2]}));
    const bool avx2 = simd::have_avx2() && simd::joseph_avx2_fits(p.dims);
#pragma omp parallel for schedule(dynamic, 1) if (work > k_parallel_work)
    for (index_t r0 = 0; r0 < n; r0 += row) {
        const index_t r1 = std::min(n, r0 + row);
        if (avx2) simd::forward_rays_avx2(f, r0, r1);
        else
            for (index_t r = r0; r < r1; ++r) f(r);
    }
}

void Projector::apply_adjoint(View<const float> projections, View<float> volume) const {
    const Impl& p = *impl_;
    check_view("CT back projection (projections)", range_shape(), projections.shape(), p.device,
               projections.device());
    check_view("CT back projection (volume)", domain_shape(), volume.shape(), p.device, volume.device());
    fill(volume, 0.0f);
    const index_t n = projections.size();
    const int nu = int(p.geometry.nu), nv = int(p.geometry.nv);
    if (p.device == Device::cuda) {
        const kern::ct::BackProjectRayF<true> f{p.rays(), projections.data(), volume.data(), p.dims, nu, nv, p.cone,
                                                -1,       0,                  1 << 30};
        detail::for_each(Device::cuda, n, f);
        return;
    }
    // Race-free CPU scatter: a sample on plane k of a ray's dominant axis writes only voxels of
    // that plane. For each axis in turn, the planes are cut into chunks and every chunk (one
    // thread) walks all rays with that dominant axis, restricted to its planes. The rays' set-up
    // (joseph_setup: plane range, interior) is computed once per axis for a block of rays and
    // shared by all chunks, instead of once per chunk; only rays of the axis with a non-zero value
    // are kept, in ray order, so that the chunks stream no skipped entries and neighbouring rays
    // stay neighbours for the AVX2 form. Each voxel receives its samples in ray order, axis by
    // axis, whatever the threads, chunks or blocks: the result does not depend on them.
    const int max_threads = omp_get_max_threads();
    const bool parallel = double(n) * double(std::max({p.dims.n[0], p.dims.n[1], p.dims.n[2]})) > k_parallel_work;
    const index_t block = std::min(n, k_setup_block);
    std::vector<kern::ct::JosephRay> staged(static_cast<std::size_t>(block)), rays(staged.size());
    std::vector<float> staged_values(staged.size()), values(staged.size());
    std::vector<index_t> kept(static_cast<std::size_t>(max_threads));
    const kern::ct::RayView* rv = p.rays();
    const float* proj = projections.data();
    float* vol = volume.data();
    const bool avx2 = simd::have_avx2() && simd::joseph_avx2_fits(p.dims);
    for (int axis = 0; axis < 3; ++axis) {
        const int na = p.dims.n[axis];
        const int chunks = parallel ? std::max(1, std::min(na, 4 * max_threads)) : 1;
#pragma omp parallel if (parallel)
        {
            const int t = omp_get_thread_num(), threads = omp_get_num_threads();
            for (index_t r0 = 0; r0 < n; r0 += block) {
                // Each thread sets up a contiguous share of the block and keeps its rays of this
                // axis at the start of its share; the shares are then concatenated in order.
                const index_t count = std::min(block, n - r0);
                const index_t i0 = count * t / threads, i1 = count * (t + 1) / threads;
                index_t m = i0;
                for (index_t i = i0; i < i1; ++i) {
                    const index_t r = r0 + i;
                    const float value = proj[r];
                    if (value == 0.0f) continue;
                    const kern::ct::DetectorIndex k = kern::ct::detector_index(r, nu, nv);
                    float pt[3], d[3];
                    kern::ct::ray_of(rv[k.view], p.cone, k.iu, k.iv, pt, d);
                    if (kern::ct::dominant_axis(d) != axis) continue;
                    if (!kern::ct::joseph_setup(pt, d, p.dims, staged[std::size_t(m)])) continue;
                    staged_values[std::size_t(m++)] = value;
                }
                kept[std::size_t(t)] = m - i0;
#pragma omp barrier
                index_t at = 0, total = 0;
                for (int u = 0; u < threads; ++u) {
                    if (u < t) at += kept[std::size_t(u)];
                    total += kept[std::size_t(u)];
                }
                std::copy_n(staged.begin() + i0, m - i0, rays.begin() + at);
                std::copy_n(staged_values.begin() + i0, m - i0, values.begin() + at);
#pragma omp barrier
#pragma omp for schedule(dynamic, 1)
                for (int c = 0; c < chunks; ++c) {
                    const int k0 = int(index_t(na) * c / chunks), k1 = int(index_t(na) * (c + 1) / chunks);
                    if (avx2) simd::joseph_scatter_rays_avx2(rays.data(), values.data(), total, p.dims, vol, k0, k1);
                    else kern::ct::joseph_scatter_rays(rays.data(), values.data(), total, p.dims, vol, k0, k1);
                }
            }
        }
    }
}

void Projector::backproject_voxel(View<const float> projections, View<float> volume) const {
    const Impl& p = *impl_;
    check_view("FDK back projection (projections)", range_shape(), projections.shape(), p.device,
               projections.device());
    check_view("FDK back projection (volume)", domain_shape(), volume.shape(), p.device, volume.device());
    const Geometry& g = p.geometry;
    Array<float> padded(Shape{g.n_angles(), g.nv + 2, g.nu + 2}, p.device);
    detail::for_each(p.device, projections.size(),
                     kern::ct::PadProjectionsF{projections.data(), padded.data(), int(g.nu), int(g.nv)});
    backproject_voxel_padded(padded, volume);
}

void Projector::backproject_voxel_padded(View<const float> padded, View<float> volume, index_t z_begin,
                                         index_t z_end) const {
    const Impl& p = *impl_;
    const Geometry& g = p.geometry;
    require(padded.shape() == Shape({g.n_angles(), g.nv + 2, g.nu + 2}) && padded.device() == p.device,
            "FDK back projection: padded projections of shape " + padded.shape().str() + " do not match the geometry");
    check_view("FDK back projection (volume)", domain_shape(), volume.shape(), p.device, volume.device());
    if (z_end < 0) z_end = g.volume.nz;
    require(0 <= z_begin && z_begin <= z_end && z_end <= g.volume.nz,
            "FDK back projection: slices [" + std::to_string(z_begin) + ", " + std::to_string(z_end) +
                ") are outside the volume's " + std::to_string(g.volume.nz));
    if (z_begin == z_end) return;
    const int views = int(g.n_angles());
    if (p.device == Device::cuda) {
        const kern::ct::FdkBackprojectF f{p.matrices.data(), padded.data(), volume.data(), int(g.volume.nx),
                                          int(g.volume.ny),  int(g.nu),     int(g.nv),     views,
                                          p.cone,            int(z_begin)};
        detail::for_each(Device::cuda, (z_end - z_begin) * g.volume.nx * g.volume.ny, f);
        return;
    }
    const kern::ct::FdkBackprojectSlabF f{p.matrices.data(), padded.data(), volume.data(), int(g.volume.nx),
                                          int(g.volume.ny),  int(g.nu),     int(g.nv),     p.cone};
    // Tasks of one row iy times a block of slices: the block's voxels stay in L1 while a view's
    // detector column is walked down z. Views in blocks so that the detector rows a task reads
    // are reused by the neighbouring tasks of the same block. The SIMD kernels read the block's
    // views column-major (src/ct/simd.hpp): the threads transpose them first, into one buffer.
    const bool avx2 = simd::have_avx2(), avx512 = simd::have_avx512();
    const int nz = int(z_end - z_begin), ny = int(g.volume.ny), z_first = int(z_begin);
    const int zb = std::min(nz, avx2 ? 64 : 16);
    const int z_blocks = (nz + zb - 1) / zb;
    const index_t tasks = index_t(ny) * z_blocks;
    const index_t column_view = avx2 ? index_t(g.nu + 2) * simd::fdk_column_pitch(int(g.nv)) : 0;
    // 32 views a block; fewer (at least 4) when their transposed copy would pass 256 MiB (large
    // detectors: 2048^2 takes 14).
    const int block = avx2 ? int(std::clamp<index_t>((index_t(256) << 20) / (column_view * index_t(sizeof(float))), 4, 32)) : 32;
    std::vector<float> columns(std::size_t(column_view * std::min(block, views)), 0.0f);
    const double work = double(nz) * double(ny) * double(g.volume.nx) * views;
#pragma omp parallel if (work > k_parallel_work)
    {
        std::vector<float> acc(std::size_t(g.volume.nx) * std::size_t(zb));  // one per thread
        for (int v0 = 0; v0 < views; v0 += block) {
            const int v1 = std::min(views, v0 + block);
            if (avx2) {
#pragma omp for schedule(static)
                for (int v = v0; v < v1; ++v) simd::fdk_transpose_view(f, v, columns.data() + (v - v0) * column_view);
            }
#pragma omp for schedule(dynamic, 2)
            for (index_t t = 0; t < tasks; ++t) {
                const int zblk = int(t / ny), iy = int(t - index_t(zblk) * ny);
                std::fill(acc.begin(), acc.end(), 0.0f);
                const int z0 = z_first + zblk * zb, z1 = z_first + std::min(nz, (zblk + 1) * zb);
                if (avx512) simd::fdk_slab_avx512(f, columns.data(), iy, z0, z1, v0, v1, acc.data());
                else if (avx2) simd::fdk_slab_avx2(f, columns.data(), iy, z0, z1, v0, v1, acc.data());
                else f(iy, z0, z1, v0, v1, acc.data());
            }
        }
    }
}

LinOpPtr<float> make_projector(const Geometry& geometry, Device device) {
    return std::make_shared<const Projector>(geometry, device);
}

void forward_project(const Geometry& geometry, View<const float> volume, View<float> projections) {
    Projector(geometry, volume.device()).apply(volume, projections);
}

void back_project(const Geometry& geometry, View<const float> projections, View<float> volume) {
    Projector(geometry, projections.device()).apply_adjoint(projections, volume);
}

}  // namespace lumen::ct
