// lumen-h5diff A.h5 B.h5: how far two lumen outputs differ, array by array, for comparing runs on
// two devices (scripts/gpu-check) on machines with no Python or h5py. For every real or complex
// dataset of more than one element present in both files with the same shape, one line:
//
//   /volume (64, 64, 64): max rel 3.1e-06, l2 rel 8.2e-07
//
// where max rel = max |a - b| / max |a| and l2 rel = ||a - b|| / ||a|| (no '|' in the line, so that
// it fits in a Markdown table cell).
// Largest arrays first (the reconstruction before its history). Datasets whose path contains
// "elapsed" or "time" (timings) are left out. Exit code 0 when at least one array was compared,
// 2 on a usage or file error.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "lumen/core/error.hpp"
#include "lumen/io/hdf5.hpp"

using namespace lumen;

namespace {

void collect(const io::H5File& f, const std::string& group, std::vector<std::string>& out) {
    for (const std::string& name : f.list(group)) {
        const std::string path = (group == "/" ? "" : group) + "/" + name;
        if (f.is_dataset(path)) out.push_back(path);
        else collect(f, path, out);
    }
}

bool is_timing(const std::string& path) {
    return path.find("elapsed") != std::string::npos || path.find("time") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: lumen-h5diff A.h5 B.h5\n");
        return 2;
    }
    try {
        const io::H5File a = io::H5File::open(argv[1]), b = io::H5File::open(argv[2]);
        std::vector<std::string> names;
        collect(a, "/", names);
        struct Line {
            index_t size;
            std::string text;
        };
        std::vector<Line> lines;
        for (const std::string& n : names) {
            if (is_timing(n) || !b.exists(n) || !b.is_dataset(n)) continue;
            const io::DatasetInfo ia = a.info(n), ib = b.info(n);
            if (ia.shape != ib.shape || ia.shape.size() <= 1) continue;
            double diff_max = 0, ref_max = 0, diff2 = 0, ref2 = 0;
            auto add = [&](double d, double r) {
                diff_max = std::max(diff_max, d);
                ref_max = std::max(ref_max, r);
                diff2 += d * d;
                ref2 += r * r;
            };
            if (ia.is_complex() && ib.is_complex()) {
                const Array<complex64> x = a.read_complex(n), y = b.read_complex(n);
                for (index_t i = 0; i < x.size(); ++i) add(double(abs(x[i] - y[i])), double(abs(x[i])));
            } else if (ia.is_real_number() && ib.is_real_number()) {
                const Array<float> x = a.read_float(n), y = b.read_float(n);
                for (index_t i = 0; i < x.size(); ++i) add(std::abs(double(x[i]) - double(y[i])), std::abs(double(x[i])));
            } else {
                continue;
            }
            char buf[160];
            std::snprintf(buf, sizeof buf, ": max rel %.2e, l2 rel %.2e", ref_max > 0 ? diff_max / ref_max : diff_max,
                          ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2));
            lines.push_back({ia.shape.size(), n + " " + ia.shape.str() + buf});
        }
        std::stable_sort(lines.begin(), lines.end(), [](const Line& x, const Line& y) { return x.size > y.size; });
        for (const Line& l : lines) std::printf("%s\n", l.text.c_str());
        if (lines.empty()) {
            std::fprintf(stderr, "lumen-h5diff: no array of the same shape in both %s and %s\n", argv[1], argv[2]);
            return 2;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "lumen-h5diff: %s\n", e.what());
        return 2;
    }
}
