// Writes the seed corpus: small valid files of each format, made by lumen's own simulators and
// writers, into DIR/fuzz_ct, DIR/fuzz_mri, DIR/fuzz_ptycho (and recipes for fuzz_structured).
// Usage: fuzz_make_seeds fuzz/corpus
#include <filesystem>
#include <fstream>
#include <iostream>

#include "lumen/ct/io.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/simulate.hpp"
#include "lumen/ptycho/io.hpp"
#include "lumen/ptycho/simulate.hpp"

using namespace lumen;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_make_seeds DIR\n";
        return 2;
    }
    const fs::path dir = argv[1];
    for (const char* t : {"fuzz_ct", "fuzz_mri", "fuzz_ptycho", "fuzz_structured"}) fs::create_directories(dir / t);

    ct::SimulationOptions co;
    co.size = 6;
    co.views = 6;
    co.flat_frames = co.dark_frames = 1;
    ct::Scan cs = ct::simulate(co, Device::cpu);
    ct::write_scan((dir / "fuzz_ct" / "cone_flat_dark.h5").string(), cs, {});
    cs.white = Array<float>();
    cs.dark = Array<float>();
    cs.truth = Array<float>();
    cs.i0 = 1e5;
    ct::write_scan((dir / "fuzz_ct" / "cone_i0.h5").string(), cs, {});

    mri::SimulationOptions mo;
    mo.height = 16;
    mo.width = 16;
    mo.coils = 2;
    const mri::SimulatedScan ms = mri::simulate(mo);
    mri::FastMriWriteOptions wo;
    wo.recon_height = 4;
    wo.recon_width = 4;
    mri::write_fastmri((dir / "fuzz_mri" / "fastmri.h5").string(), ms.kspace.view(), wo, false);
    mri::MaskSpec spec;
    spec.acceleration = 2;
    spec.center_fraction = 0.25;
    const Array<float> mask = mri::make_mask(spec, 16, 16);
    wo.mask = mask.view();
    mri::write_fastmri((dir / "fuzz_mri" / "fastmri_mask.h5").string(), ms.kspace.view(), wo, false);
    mri::write_ismrmrd((dir / "fuzz_mri" / "ismrmrd.h5").string(), ms.kspace.view(), mask.view(), 4, 4);

    ptycho::SimulationOptions po;
    po.frame = 8;
    po.positions = 4;
    po.store_probe = true;
    const ptycho::Scan ps = ptycho::simulate(po, Device::cpu);
    ptycho::write_cxi((dir / "fuzz_ptycho" / "cxi_probe.cxi").string(), ps);

    // fuzz_structured: its first byte picks the reader; the rest is read as a recipe.
    for (unsigned char reader = 0; reader < 3; ++reader) {
        std::ofstream out(dir / "fuzz_structured" / ("reader" + std::to_string(reader)), std::ios::binary);
        out.put(char(reader));
        for (int i = 0; i < 255; ++i) out.put(char((i * 37 + reader) & 0xff));
    }
    return 0;
}
