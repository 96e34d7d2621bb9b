// Normalisation of CT scans in memory, the log transform and the counts' variance
// (include/lumen/ct/scan.hpp). No file access: the readers and writers are in src/ct/io.cpp.
#include "lumen/ct/scan.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/ct/elementwise.hpp"
#include "lumen/core/error.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

using detail::num;

std::vector<float> mean_frame(const Array<float>& frames) {
    const index_t per = frames.dim(1) * frames.dim(2);
    std::vector<double> acc(static_cast<std::size_t>(per), 0.0);
    for (index_t f = 0; f < frames.dim(0); ++f)
        for (index_t p = 0; p < per; ++p) acc[std::size_t(p)] += frames[f * per + p];
    std::vector<float> out(static_cast<std::size_t>(per));
    for (index_t p = 0; p < per; ++p) out[std::size_t(p)] = float(acc[std::size_t(p)] / double(frames.dim(0)));
    return out;
}

}  // namespace

Array<float> transmission(const Scan& scan, Device device) {
    const Geometry& g = scan.geometry;
    const std::string where = scan.path.empty() ? std::string("scan") : scan.path;
    require(scan.data.rank() == 3 && scan.data.shape() == scan.held_shape() && scan.row_first >= 0 &&
                scan.row_first + scan.rows() <= g.nv,
            where + ": /exchange/data has shape " + scan.data.shape().str() + ", expected " + g.projection_shape().str() +
                " or some of its rows");
    const index_t per = g.nu * scan.rows();
    std::vector<float> dark = scan.dark.empty() ? std::vector<float>() : mean_frame(scan.dark);
    std::vector<float> inv_gain(static_cast<std::size_t>(per));
    if (!scan.white.empty()) {
        const std::vector<float> white = mean_frame(scan.white);
        for (index_t p = 0; p < per; ++p) {
            const float d = dark.empty() ? 0.0f : dark[std::size_t(p)];
            const float gain = white[std::size_t(p)] - d;
            if (!(gain > 0.0f))
                throw Error(ErrorCode::bad_input,
                            where + ": the flat field (/exchange/data_white, " + num(white[std::size_t(p)]) +
                                ") does not exceed the dark field (" + num(d) + ") at detector pixel (row " +
                                std::to_string(scan.row_first + p / g.nu) + ", column " + std::to_string(p % g.nu) +
                                "); the projections cannot be normalised");
            inv_gain[std::size_t(p)] = 1.0f / gain;
        }
    } else {
        require(scan.i0 > 0.0, where + ": no flat field and no positive i0 to normalise with");
        std::fill(inv_gain.begin(), inv_gain.end(), float(1.0 / scan.i0));
    }
    // The raw stack is read in place on the host; it is copied only to reach another device.
    Array<float> data_moved;
    if (device != scan.data.device()) data_moved = scan.data.to(device);
    const float* data = device == scan.data.device() ? scan.data.data() : data_moved.data();
    Array<float> gain_d = Array<float>::from(inv_gain, Shape{per}).to(device);
    Array<float> dark_d;
    if (!dark.empty()) dark_d = Array<float>::from(dark, Shape{per}).to(device);
    Array<float> t(scan.held_shape(), device);
    detail::for_each(device, t.size(),
                     kern::ct::NormalizeF{data, dark_d.empty() ? nullptr : dark_d.data(), gain_d.data(), per,
                                          t.data()});
    return t;
}

Array<float> line_integrals(View<const float> t, double min_transmission, const std::string& context) {
    const Device dev = t.device();
    Array<float> out(t.shape(), dev);
    if (!(min_transmission > 0.0)) {
        const double bad = detail::reduce<double>(dev, t.size(), kern::ct::NonPositiveF{t.data()});
        if (bad > 0.0) {
            Array<float> host = Array<float>::copy_of(t, Device::cpu);
            index_t first = 0;
            while (first < host.size() && host[first] > 0.0f && std::isfinite(host[first])) ++first;
            const index_t nu = t.rank() == 3 ? t.dim(2) : 1, nv = t.rank() == 3 ? t.dim(1) : 1;
            throw Error(ErrorCode::bad_input,
                        context + ": " + std::to_string(index_t(bad)) +
                            " projection pixels have a non-positive normalised intensity (first: view " +
                            std::to_string(first / (nu * nv)) + ", row " + std::to_string((first / nu) % nv) +
                            ", column " + std::to_string(first % nu) + ", value " + num(host[first]) +
                            "); the log transform needs positive values. Use the nonlinear method (ReconOptions.method, no "
                            "log), or clamp them to at least EPS (ReconOptions.min_transmission)");
        }
    }
    detail::for_each(dev, t.size(), kern::ct::NegLogF{t.data(), float(std::max(min_transmission, 0.0)), out.data()});
    return out;
}

Array<float> line_integral_variance(const Scan& scan) {
    const Geometry& g = scan.geometry;
    const index_t per = g.nu * scan.rows();
    std::vector<float> dark = scan.dark.empty() ? std::vector<float>(std::size_t(per), 0.0f) : mean_frame(scan.dark);
    std::vector<float> white_var(std::size_t(per), 0.0f);
    if (!scan.white.empty()) {
        const std::vector<float> white = mean_frame(scan.white);
        const double frames = double(scan.white.dim(0));
        for (index_t p = 0; p < per; ++p) {
            const double gain = double(white[std::size_t(p)]) - double(dark[std::size_t(p)]);
            white_var[std::size_t(p)] = gain > 0 ? float(double(white[std::size_t(p)]) / (frames * gain * gain)) : 0.0f;
        }
    }
    Array<float> var(scan.held_shape());
    detail::for_each(Device::cpu, var.size(),
                     kern::ct::CountVarianceF{scan.data.data(), dark.data(), white_var.data(), per, var.data()});
    return var;
}

}  // namespace lumen::ct