// Ptychography files (docs/ptychography.md, "Files"): the CXI scans lumen reads and writes, the
// result files and previews a reconstruction writes, and what `info` says about each. The
// in-memory types are in scan.hpp and recon.hpp; this is the only ptycho header that touches files.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/quality.hpp"
#include "lumen/io/output.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/scan.hpp"

namespace lumen::ptycho {

// Which propagation a file's frames need: from_file reads /lumen/propagation ("near" or "far",
// written by lumen's simulator) and otherwise takes far field, as CXI ptychography files are.
enum class Propagation { from_file, far_field, near_field };
// "far", "near" or "file"; anything else is Error(invalid_option) for RunOptions.propagation.
Propagation parse_propagation(const std::string& text);

// CXI paths read and written by lumen.
namespace cxi {
inline constexpr const char* data = "/entry_1/data_1/data";
inline constexpr const char* translation = "/entry_1/sample_1/geometry_1/translation";
inline constexpr const char* distance = "/entry_1/instrument_1/detector_1/distance";
inline constexpr const char* x_pixel_size = "/entry_1/instrument_1/detector_1/x_pixel_size";
inline constexpr const char* y_pixel_size = "/entry_1/instrument_1/detector_1/y_pixel_size";
inline constexpr const char* mask = "/entry_1/instrument_1/detector_1/mask";
// The detector's axes in the lab frame (x, y, z; metres per pixel): row 0 for the data's slow axis
// (frame rows), row 1 for its fast axis (columns); stored (2, 3) as the CXI spec lays it out, or
// (3, 2) (columns are the vectors), globally or per frame ((N, 2, 3) / (N, 3, 2)).
inline constexpr const char* basis_vectors = "/entry_1/instrument_1/detector_1/basis_vectors";
// CXI pixel-mask bits that make a pixel unusable: invalid (0x1), saturated (0x2), hot (0x4), dead
// (0x8), shadowed (0x10), to be ignored (0x40), bad (0x80), missing (0x200), noisy (0x400). The
// other bits are information and keep the pixel: in a hit-finder's peak mask (0x20), outside
// resolution limits (0x100), artifact corrected (0x800), has signal (0x1000, "signal above
// background"), and any higher bit.
inline constexpr std::int64_t mask_bad_bits = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x200 | 0x400;
inline constexpr const char* energy = "/entry_1/instrument_1/source_1/energy";
inline constexpr const char* wavelength = "/entry_1/instrument_1/source_1/wavelength";
inline constexpr const char* illumination = "/entry_1/instrument_1/source_1/illumination";
inline constexpr const char* propagation = "/lumen/propagation";
inline constexpr const char* truth_object = "/lumen/truth/object";
inline constexpr const char* truth_probe = "/lumen/truth/probe";
inline constexpr const char* truth_positions = "/lumen/truth/positions";
// A simulated multi-slice object's slices [N][H][W] (truth_object is their product), and the slice
// distance in metres that the scan says (docs/formats.md); recon takes it unless told another.
inline constexpr const char* truth_slices = "/lumen/truth/slices";
inline constexpr const char* slice_distance = "/lumen/slice_distance";
}  // namespace cxi

// Reads a CXI file. Translations may be (N, 3) or (3, N) (an ambiguous (3, 3) is read as
// (N, 3)); other paths as in cxi::. Frames (and the mask) are turned so that rows run along +y
// and columns along +x as the detector's basis_vectors say (none: already so); vectors that are
// not along x and y are refused. The mask keeps a pixel unless one of cxi::mask_bad_bits is set. Every problem is an Error(bad_input) naming the file and
// dataset: missing data or geometry, wrong ranks, positions that do not match the frames,
// negative or non-finite intensities, non-positive distances, pixel sizes or energy, a mask or
// probe of the wrong shape.
// Near field (`propagation`, or /lumen/propagation with from_file): positions are converted with the
// detector pixel sizes as the object pixel.
// Distributed (`ranks`, docs/scaling.md): each rank reads the positions, geometry and mask of
// the whole scan but only its own block of frames (block_of over the frames, an HDF5 hyperslab
// read); the Scan then says which (Scan::first_frame), and a bad frame fails only the rank that
// reads it.
Scan read_cxi(const std::string& path, Propagation propagation = Propagation::from_file,
              const Communicator& ranks = single_rank());

// Writes a scan as CXI (positions converted back to metres; /lumen/truth when present). Atomic.
void write_cxi(const std::string& path, const Scan& scan);

// A human-readable account of what the file holds and whether lumen can read it; throws the
// read error when it cannot.
std::string describe_cxi(const std::string& path);

// The order of the frames in the file: centred (detector order, zero frequency at [ny/2][nx/2], as
// CXI stores them), fft (zero frequency at [0][0], as tike and numpy's fft2 store them), or auto
// (fft when the bright field is found in the corners: ptycho.frames_centred).
enum class FrameOrder { centred, fft, automatic };
// "centred" (or "centered", "detector"), "fft" or "auto"; anything else is Error(invalid_option)
// for RunOptions.frame_order.
FrameOrder parse_frame_order(const std::string& text);

// Reads a CXI scan for reconstruction: read_cxi, then the frame order (`order`), then the checks
// that need only the file (check_scan). Sets `reordered` when the frames were reordered.
// Distributed (`ranks`): as read_cxi, this rank's frames, with the frame order and the checks
// decided on every rank's frames together.
Scan read_scan_for_recon(const std::string& path, FrameOrder order, bool* reordered = nullptr,
                         Propagation propagation = Propagation::from_file, const Communicator& ranks = single_rank());

// Writes a result as HDF5: /object, /probe, /illumination, /history (/slices for a multi-slice
// object, /object then their product) and attributes (method, loss,
// steps, iterations, lumen_version, device, and `extra` numbers such as the quality against a
// truth). Atomic (staged, then renamed); the object and probe are checked finite first
// (Error(failure) otherwise).
void write_result(const std::string& path, const ReconResult& result, const ReconOptions& options,
                  const std::vector<std::pair<std::string, double>>& extra = {});
void write_result(io::OutputSet& set, const std::string& path, const ReconResult& result, const ReconOptions& options,
                  const std::vector<std::pair<std::string, double>>& extra = {});
// PNG previews PREFIX_object_amplitude.png, PREFIX_object_phase.png, PREFIX_probe_amplitude.png
// (and PREFIX_probe_phase.png).
void write_previews(const std::string& prefix, const ReconResult& result);
void write_previews(io::OutputSet& set, const std::string& prefix, const ReconResult& result);

// What kind of ptychography file lumen finds at a path: a CXI scan (/entry_1/data_1/data), a
// result that write_result wrote (/object and /probe), or neither.
enum class FileKind { scan, result, unknown };
FileKind file_kind(const std::string& path);

// What a result file (write_result) holds: Error(bad_input) naming the file when /object or
// /probe is missing or not a complex image. Attributes that are absent stay empty / NaN.
struct ResultInfo {
    Shape object_shape, probe_shape;
    std::string method, loss, device, lumen_version;
    int iterations = 0;
    bool refined_probe = false, probe_from_data = false;
    double residual_ratio = std::nan("");
    Quality quality;  // nrmse (the object's) and nrmse_probe, when the run had a truth
    index_t slices = 1;                    // multi-slice results: the number of /slices
    double slice_distance_m = std::nan("");  // and their distance
};
ResultInfo read_result_info(const std::string& path);
// A human-readable account of a result file: object and probe shapes, the method, its
// iterations, the fit and the quality stored with it.
std::string describe_result(const std::string& path);

}  // namespace lumen::ptycho
