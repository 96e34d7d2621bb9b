// MRI files (docs/mri.md, "Files"): fastMRI HDF5 and Cartesian ISMRMRD (MRD) HDF5 in, fastMRI
// layout out (the simulator) and ISMRMRD out (for interchange and tests); the reconstructions,
// coil maps and previews lumen-mri writes, and what `info` reads back from them.
//
// fastMRI: /kspace complex64 (slices, coils, H, W) or single-coil (slices, H, W); /ismrmrd_header
// (XML: encodedSpace, reconSpace, encodingLimits/kspace_encoding_step_1 for the zero-padded
// phase encodes); optional /mask ((W,) or (H, W), 1 = acquired); optional targets
// /reconstruction_rss, /reconstruction_esc; lumen's simulations add /lumen/truth/{image,
// sensitivities}.
// ISMRMRD: /dataset/xml + /dataset/data acquisitions; each readout becomes a column of k-space
// ([slice][coil][readout = H][phase encode ky = W], the fastMRI orientation); averages are
// averaged; readouts flagged ACQ_IS_REVERSE (bipolar / EPI-like readouts, stored in acquisition
// order) are flipped back; noise-measurement scans (ACQ_IS_NOISE_MEASUREMENT) are kept apart for
// pre-whitening (lumen/mri/noise.hpp); navigator, phase-correction and dummy scans are skipped;
// 3-D (kz > 0) and non-Cartesian trajectories are rejected.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/quality.hpp"
#include "lumen/mri/espirit.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen::io {
class OutputSet;
}

namespace lumen::mri {

struct ScanHeader {
    std::string path;
    std::string format;           // "fastmri" or "ismrmrd"
    index_t slices = 0, coils = 0, height = 0, width = 0;
    bool single_coil = false;     // fastMRI (slices, H, W)
    index_t recon_height = 0, recon_width = 0;  // from the header's reconSpace; else min(320, H), min(320, W)
    bool has_xml_header = false;
    index_t first_column = 0, last_column = 0;  // acquired phase encodes [first, last) (encoding limits)
    // Acquired readout samples [first_row, last_row): the whole readout, except for ISMRMRD lines
    // shorter than H (asymmetric echo), placed by their center_sample.
    index_t first_row = 0, last_row = 0;
    // ISMRMRD only.
    index_t reversed_lines = 0;   // readouts flagged ACQ_IS_REVERSE, flipped on read
    index_t noise_scans = 0;      // noise-measurement acquisitions (the noise pre-scan)
    double noise_dwell_us = 0.0;  // their sample time, and the imaging readouts' (0: not given)
    double acquisition_dwell_us = 0.0;
    bool has_mask = false;
    std::string mask_shape;
    bool has_truth = false;       // /lumen/truth/image and /lumen/truth/sensitivities
    std::string target;           // dataset scored against when no truth: "/reconstruction_rss", ... or ""
    std::string acquisition;      // fastMRI attribute, if any
};

class ScanReader {
public:
    // Opens and validates the layout (not the values). Error(bad_input) naming file and dataset.
    static ScanReader open(const std::string& path);
    ScanReader(ScanReader&&) noexcept;
    ScanReader& operator=(ScanReader&&) noexcept;
    ~ScanReader();

    const ScanHeader& header() const;
    // One slice of k-space [coils][H][W] on the host; Error(bad_input) when it is all zero or holds
    // NaN/Inf (naming the slice).
    Array<complex64> read_slice(index_t slice) const;
    // The file's own mask expanded to [H][W] (0/1), or an empty array when the file has none.
    Array<float> file_mask() const;
    // The noise pre-scan's samples [coils][n] (ISMRMRD ACQ_IS_NOISE_MEASUREMENT acquisitions), or
    // an empty array when the file has none.
    Array<complex64> noise_samples() const;
    // True image [slices][H][W] and sensitivities ([coils][H][W] or [slices][coils][H][W]) of a
    // simulated file (Error when absent).
    Array<complex64> truth_image() const;
    Array<complex64> truth_sensitivities() const;
    // The reference to score against, [slices][recon_height][recon_width]: the truth's RSS target
    // when present, else the file's fastMRI target dataset; empty when neither exists.
    Array<float> reference() const;

    struct Impl;

private:
    explicit ScanReader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The ISMRMRD XML header lumen writes (and parses): encoded and recon matrix sizes (x = readout
// = H, y = phase encode = W) and phase-encode limits: columns [first_column, W) acquired, the
// centre at W/2 (first_column > 0: a partial-Fourier acquisition that left out the first lines).
std::string ismrmrd_header_xml(index_t height, index_t width, index_t recon_height, index_t recon_width,
                               index_t coils, index_t slices, index_t first_column = 0);

struct FastMriWriteOptions {
    View<const float> mask;           // [H][W] or [W]; empty: no /mask written (fully sampled)
    View<const complex64> truth_image;           // optional /lumen/truth/image
    View<const complex64> truth_sensitivities;   // optional /lumen/truth/sensitivities
    View<const float> reconstruction_rss;        // optional fastMRI target
    index_t recon_height = 0, recon_width = 0;
    index_t first_column = 0;         // header limits: columns before it were not acquired (partial Fourier)
    std::string acquisition = "LUMEN_SIM";
};
// Writes kspace [slices][coils][H][W] (coils == 1 and single_coil: written as (slices, H, W)) in
// fastMRI layout, atomically.
void write_fastmri(const std::string& path, View<const complex64> kspace, const FastMriWriteOptions& options,
                   bool single_coil = false);

struct IsmrmrdWriteOptions {
    View<const float> mask;           // [H][W] or [W]; empty: every column acquired
    index_t recon_height = 0, recon_width = 0;  // 0: min(320, H), min(320, W)
    index_t first_column = 0;         // header limits (partial Fourier), as for write_fastmri
    // Odd phase-encode lines flagged ACQ_IS_REVERSE with their samples stored in reverse order, as
    // bipolar (EPI-like) readouts come off a scanner.
    bool reverse_odd_lines = false;
    // Noise pre-scan [coils][n]: written first, as acquisitions of up to H samples flagged
    // ACQ_IS_NOISE_MEASUREMENT.
    View<const complex64> noise;
    float dwell_us = 5.0f, noise_dwell_us = 5.0f;  // sample_time_us of the imaging and noise readouts
};
// Writes kspace [slices][coils][H][W] as a Cartesian ISMRMRD dataset: one acquisition per slice and
// phase-encode column that the mask marks as acquired (every column when the mask is empty), with
// the loop-counter flags a scanner sets: first-in-slice and last-in-slice on each slice's first
// and last line, last-in-measurement on the last line of the file.
void write_ismrmrd(const std::string& path, View<const complex64> kspace, const IsmrmrdWriteOptions& options);
inline void write_ismrmrd(const std::string& path, View<const complex64> kspace, View<const float> mask,
                          index_t recon_height, index_t recon_width) {
    IsmrmrdWriteOptions o;
    o.mask = mask;
    o.recon_height = recon_height;
    o.recon_width = recon_width;
    write_ismrmrd(path, kspace, o);
}

// ---- What lumen-mri writes besides scans (docs/mri.md, "Output files").

// `lumen-mri recon`'s settings, stored as attributes of / in its output.
struct ReconstructionAttributes {
    std::string method, maps = "none", mask_source, device, partial_fourier = "none", noise_source, input;
    double lambda = 0.0, acceleration = 1.0, noise_variance = 0.0;
    std::int64_t iterations = 0;
    bool undersampled = false;          // a generated mask: then mask_kind, mask_seed, requested_acceleration
    std::string mask_kind;
    std::int64_t mask_seed = 0;
    double requested_acceleration = 0.0;
    EspiritOptions espirit;
    bool prewhitened = false;
    double residual = -1.0;             // noise-normalised; < 0: not written
    // How the iterative methods stopped: "discrepancy" or "iterations" ("" for zero-filled), the
    // tau (0: none), the L1-wavelet cycle spinning ("off" or "seed N"; "" for other methods), and
    // every slice's solver stop_reason, comma-separated (/history's attribute slice_stop_reasons).
    std::string stopping, cycle_spinning, slice_stop_reasons;
    double discrepancy_tau = 0.0;
    std::int64_t ranks = 1;             // MPI ranks that reconstructed the slices (docs/scaling.md)
    Quality quality;                    // nmse, psnr (dB), ssim: written when measured
};

// `lumen-mri recon`'s output, staged in `outputs` (lumen/io/output.hpp): /reconstruction float32
// [slices][rh][rw], /history (every slice's iterations one after the other) with /history/slice,
// /mask uint8 [H][W] (the last slice's), the attributes. Error(bad_input) when the volume is not finite.
void write_reconstruction(io::OutputSet& outputs, const std::string& path, View<const float> volume,
                          const SolverResult& history, View<const std::int64_t> history_slice, View<const float> mask,
                          const ReconstructionAttributes& attributes);

// PNG previews of a volume [slices][h][w]: PREFIX_sNNN.png, and PREFIX_reference_sNNN.png for the
// reference when it is not empty, on one grey scale (0 to the reference's maximum, else the
// volume's). Returns the paths written.
std::vector<std::string> write_previews(io::OutputSet& outputs, const std::string& prefix, View<const float> volume,
                                        View<const float> reference);

// `lumen-mri espirit`'s output: /sensitivities complex64 [slices][coils][H][W], /eigenvalues
// float32 [slices][H][W], the ESPIRiT settings and the calibration box as attributes.
void write_maps(io::OutputSet& outputs, const std::string& path, View<const complex64> maps,
                View<const float> eigenvalues, const EspiritOptions& options, const CalibrationBox& box,
                const std::string& input);

// A file lumen-mri wrote that is not a scan: what `info` says about it.
struct OutputFileInfo {
    std::string kind;     // "reconstruction" (/reconstruction), "maps" (/sensitivities), "" (neither)
    std::string dataset;  // the main dataset
    Shape shape;          // its shape
    // The attributes of / that lumen writes, those present: text and numbers.
    std::vector<std::pair<std::string, std::string>> text;
    std::vector<std::pair<std::string, double>> numbers;
};
// Error(bad_input) when the file cannot be opened as HDF5; kind "" when it holds neither dataset.
OutputFileInfo describe_output(const std::string& path);

}  // namespace lumen::mri
