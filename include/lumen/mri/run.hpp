// The file-to-file pipelines behind `lumen-mri recon` and `lumen-mri espirit` (docs/mri.md):
// read a scan (lumen/mri/io.hpp), choose its mask and coil maps, reconstruct it slice by slice in
// memory (lumen/mri/recon.hpp) and write the result (lumen/mri/io.hpp), with the scan's
// plausibility checks (lumen/core/checks.hpp) on the way.
#pragma once

#include <string>
#include <vector>

#include "lumen/core/comm.hpp"
#include "lumen/core/progress.hpp"
#include "lumen/core/quality.hpp"
#include "lumen/io/checkpoint.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/noise.hpp"
#include "lumen/mri/partial_fourier.hpp"
#include "lumen/mri/preprocess.hpp"
#include "lumen/mri/recon.hpp"

namespace lumen::mri {

// Where the coil maps of the iterative methods come from.
enum class MapsSource {
    espirit,  // ESPIRiT from each slice's calibration region (single-coil files: S = 1)
    truth,    // a simulation's /lumen/truth/sensitivities
};
// "espirit", "truth"; an unknown name is Error(invalid_option) naming RunOptions.maps.
MapsSource parse_maps_source(const std::string& text);
const char* maps_source_name(MapsSource source) noexcept;

// `lumen-mri recon`.
struct RunOptions {
    std::string input, output;
    // recon.progress: before each slice and after every iteration, part = the slice.
    ReconOptions recon;
    bool undersample = false;     // apply `mask` to a fully sampled file (else the file's own mask,
    MaskSpec mask;                //  or the non-zero samples)
    MapsSource maps = MapsSource::espirit;
    EspiritOptions espirit;
    std::string png_prefix;       // previews PREFIX_sNNN.png (and PREFIX_reference_sNNN.png); empty: none
    bool prewhiten = true;        // whiten the coils with the file's noise pre-scan, when it has one
    bool pocs = true;             // fill a partial-Fourier scan's left-out part (zf: POCS; others: phase-constrained)
    // Readout-oversampling removal and coil compression before ESPIRiT and the iterations
    // (lumen/mri/preprocess.hpp); zero-filled is cropped only.
    PreprocessOptions preprocess;
    // Checkpoints and resuming (lumen/io/checkpoint.hpp) at slice granularity: a checkpoint holds
    // the completed slices; the slice running when SIGINT/SIGTERM came is restarted on resume.
    // `every` counts completed slices. A stopped run throws Error(interrupted) after saving.
    io::CheckpointOptions checkpoint;

    // recon, mask (when undersample) and espirit (when its maps are used): Error(invalid_option)
    // naming the field ("ReconOptions.lambda", "MaskSpec.acceleration", "EspiritOptions.kernel",
    // "PreprocessOptions.coil_energy").
    void validate() const;
};

// The options an MRI checkpoint records (those that change the result) as (field, value text).
std::vector<std::pair<std::string, std::string>> checkpoint_options(const RunOptions& options);

struct RunSummary {
    ScanHeader header;
    std::string mask_source;      // "generated", "file", "data"
    double acceleration = 1.0;    // achieved, over the acquired columns
    int iterations = 0;           // per slice (the last slice's)
    std::string stop_reason;      // the last slice's solver ("" for zero-filled)
    std::vector<int> slice_iterations;              // every slice's solver iterations
    std::vector<std::string> slice_stop_reasons;    // and why it stopped ("" for zero-filled)
    double discrepancy_tau = 0.0; // the discrepancy stop's tau (0: none)
    int ranks = 1;                // MPI ranks that took part (lumen/core/comm.hpp; rank 0 wrote the output)
    CommunicationStats communication;  // distributed runs: the gather of the slices (rank 0's view)
    double seconds = 0.0;
    Quality quality;              // nmse, psnr_db, ssim against the file's truth or target; NaN without one
    std::vector<std::string> previews;
    bool whitened = false;        // the coils were pre-whitened with the noise pre-scan
    NoiseWhitening noise;         // the pre-scan's statistics (samples == 0: the file has none)
    // The noise-normalised residual: ||M (A x - y)||^2 / (measured samples * sigma^2), sigma^2 the
    // noise variance per sample (given, from the noise pre-scan, else the readout margin). About 1 when the
    // model explains the data down to the noise (a little below for CG-SENSE, whose image has
    // degrees of freedom of its own; above when the regulariser or the model leaves signal out).
    // < 0: not available (zero-filled, or no noise estimate).
    double residual = -1.0;
    double noise_variance = 0.0;  // sigma^2 used (mean over slices)
    // "given", "noise pre-scan", "readout margin", "image background" (2-D masks: an upper
    // bound, used for the residual only, not for stopping), both when slices differ, or "".
    std::string noise_source;
    PartialFourier partial_fourier;
    bool readout_cropped = false; // some slice was reconstructed on the cropped readout (preprocess.hpp)
    index_t virtual_coils = 0;    // coils the last slice was reconstructed with (after compression)
    double coil_energy_kept = 1.0;  // the last slice's fraction of the data energy the virtual coils hold
};

// The plausibility checks of a scan (docs/mri.md, "Checks"), reported through lumen/core/checks.hpp
// with ids mri.kspace_centre, mri.reversed_lines (ISMRMRD), mri.noise_prewhitening,
// mri.partial_fourier, mri.readout_oversampling: what `info` prints, and what `recon` reports
// before it reconstructs. `method` null: as `info` (says what recon would do).
struct ScanAssessment {
    PartialFourier partial_fourier;  // of the middle slice's sampling
    NoiseWhitening noise;            // samples == 0: no noise pre-scan
    index_t peak_row = 0, peak_column = 0;  // k-space energy peak of the middle slice
};
ScanAssessment assess_scan(const ScanReader& reader, View<const float> run_mask, const Method* method,
                           bool prewhiten = true, bool pocs = true);

RunSummary run_recon(const RunOptions& options);

// `lumen-mri espirit`: maps for every slice -> /sensitivities (slices, coils, H, W) complex64 and
// /eigenvalues (slices, H, W) (write_maps in lumen/mri/io.hpp).
struct EspiritRunOptions {
    std::string input, output;
    EspiritOptions espirit;
    bool undersample = false;
    MaskSpec mask;
    Device device = Device::cpu;
    ProgressCallback progress;  // before each slice: part = the slice, iteration 0

    void validate() const;  // espirit, and mask when undersample
};
struct EspiritRunSummary {
    ScanHeader header;
    std::vector<index_t> kernels_kept;
    CalibrationBox box;
    double seconds = 0.0;
};
EspiritRunSummary run_espirit(const EspiritRunOptions& options);

}  // namespace lumen::mri
