#include "src/io/ismrmrd_check.hpp"

#include <hdf5.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "lumen/core/error.hpp"
#include "lumen/io/output.hpp"
#include "lumen/io/watchdog.hpp"

namespace lumen::io {

namespace {

// Closes an HDF5 id of any kind when it goes out of scope.
struct Id {
    hid_t id;
    herr_t (*close)(hid_t);
    ~Id() {
        if (id >= 0) close(id);
    }
};

// The three header fields lumen needs; HDF5 converts compounds by member name, so this subset
// reads from the full AcquisitionHeader whatever its layout.
struct Head {
    std::uint16_t samples, channels, traj_dims;
};
struct Record {
    Head head;
    hvl_t traj;
    hvl_t data;
};

// Variable-length payloads are allocated by HDF5 at the size their stored length claims; a
// corrupt length would ask for gigabytes. No record can hold more than its file, so larger
// requests fail (HDF5 then reports a read error, which becomes a clean refusal).
struct VlenLimit {
    hsize_t max_bytes;
};
void* bounded_alloc(std::size_t size, void* info) {
    if (size > static_cast<VlenLimit*>(info)->max_bytes) return nullptr;
    return std::malloc(size);
}
void bounded_free(void* p, void*) { std::free(p); }

std::uint32_t le32(const unsigned char* p) {
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
std::uint16_t le16(const unsigned char* p) { return std::uint16_t(p[0] | p[1] << 8); }

std::uint64_t le64(const unsigned char* p) { return std::uint64_t(le32(p)) | std::uint64_t(le32(p + 4)) << 32; }

// Where a variable-length sequence's elements lie: an object of a global heap collection.
struct HeapId {
    std::uint64_t collection = 0;  // the collection's address (relative to the base address)
    std::uint32_t index = 0;       // the object's index within it
};

struct Sizes {
    std::uint16_t samples, channels, traj_dims;
    std::uint64_t traj_len, data_len;  // elements stored
    HeapId traj_heap, data_heap;
};

// The sizes of the objects of global heap collections, read straight from the file's bytes.
// A sequence's stored length is only a claim: libHDF5 1.10 sizes its conversion buffer by it and
// copies the heap object into that buffer, and libismrmrd then reads length x element bytes out
// of it, past the object when the object is smaller (fuzz_mri found a record claiming 131070
// complex samples whose heap object held 256 bytes). The collection layout is the file format's
// (HDF5 specification, "Global Heap"): "GCOL", version 1, 3 reserved bytes, the collection's size,
// then objects (index 2 bytes, reference count 2, reserved 4, size, data padded to 8 bytes) up to
// the free-space object of index 0. Every size is checked against what was read.
class HeapObjects {
public:
    HeapObjects(int fd, std::uint64_t base, std::uint64_t file_size, std::string where)
        : fd_(fd), base_(base), file_size_(file_size), where_(std::move(where)) {}

    // The size in bytes of the object `id` names; throws Error(bad_input) when it does not exist.
    std::uint64_t size_of(const HeapId& id) {
        const auto& objects = collection(id.collection);
        const auto it = std::find_if(objects.begin(), objects.end(),
                                     [&](const std::pair<std::uint32_t, std::uint64_t>& o) { return o.first == id.index; });
        require(it != objects.end(), where_ + " points at object " + std::to_string(id.index) +
                                         " of the global heap collection at " + std::to_string(id.collection) +
                                         ", which does not hold it (corrupt file)");
        return it->second;
    }

private:
    const std::vector<std::pair<std::uint32_t, std::uint64_t>>& collection(std::uint64_t address) {
        const auto found = cache_.find(address);
        if (found != cache_.end()) return found->second;
        const std::string at = where_ + ": the global heap collection at " + std::to_string(address);
        require(address <= file_size_ && base_ <= file_size_ - address && file_size_ - address - base_ >= 16,
                at + " lies past the end of the file (corrupt file)");
        unsigned char head[16];
        read_at(head, 16, base_ + address, at);
        require(std::memcmp(head, "GCOL", 4) == 0 && head[4] == 1, at + " is not one (corrupt file)");
        const std::uint64_t size = le64(head + 8);
        require(size >= 16 && size <= file_size_ - address - base_, at + " claims " + std::to_string(size) +
                                                                        " bytes, more than the file holds (corrupt file)");
        std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
        read_at(bytes.data(), bytes.size(), base_ + address, at);
        std::vector<std::pair<std::uint32_t, std::uint64_t>> objects;
        std::uint64_t pos = 16;
        while (pos + 16 <= size) {
            const std::uint16_t index = le16(&bytes[std::size_t(pos)]);
            const std::uint64_t object = le64(&bytes[std::size_t(pos + 8)]);
            if (index == 0) break;  // free space: the rest of the collection
            require(object <= size - pos - 16, at + ": object " + std::to_string(index) + " claims " +
                                                   std::to_string(object) + " bytes, past the collection's end (corrupt file)");
            objects.emplace_back(index, object);
            pos += 16 + (object + 7) / 8 * 8;
        }
        return cache_.emplace(address, std::move(objects)).first->second;
    }

    void read_at(unsigned char* out, std::size_t n, std::uint64_t offset, const std::string& at) const {
        std::size_t got = 0;
        while (got < n) {
            const ssize_t r = ::pread(fd_, out + got, n - got, off_t(offset + got));
            if (r < 0 && errno == EINTR) continue;
            require(r > 0, at + " cannot be read (corrupt file)");
            got += std::size_t(r);
        }
    }

    int fd_;
    std::uint64_t base_, file_size_;
    std::string where_;
    std::map<std::uint64_t, std::vector<std::pair<std::uint32_t, std::uint64_t>>> cache_;
};

// The stored sequence lengths straight from the raw chunks, without reading a payload: libHDF5
// 1.10 allocates and converts as many elements as a sequence claims before anything can check
// it (a corrupt length of 1.6e9 made it take 13 GB and a minute), so the lengths are checked
// first, from the bytes. Applies to unfiltered chunked tables with little-endian uint16 header
// fields, which is what libismrmrd writes; returns false for anything else (then the checked
// HDF5 read below is used).
bool raw_sizes(const std::string& path, hid_t file, hid_t d, hid_t ftype, hid_t fhead, hsize_t n,
               hsize_t file_size, std::size_t data_stored, std::size_t traj_stored, const std::string& w,
               std::vector<Sizes>& out) {
    Id dcpl{H5Dget_create_plist(d), H5Pclose};
    if (dcpl.id < 0 || H5Pget_layout(dcpl.id) != H5D_CHUNKED || H5Pget_nfilters(dcpl.id) != 0) return false;
    hsize_t chunk = 0;
    if (H5Pget_chunk(dcpl.id, 1, &chunk) != 1 || chunk == 0) return false;
    const std::size_t rec = H5Tget_size(ftype);
    auto member = [](hid_t t, const char* name, std::size_t& off, std::size_t want_size, H5T_class_t cls) {
        const int i = H5Tget_member_index(t, name);
        if (i < 0) return false;
        Id m{H5Tget_member_type(t, unsigned(i)), H5Tclose};
        off = H5Tget_member_offset(t, unsigned(i));
        return H5Tget_class(m.id) == cls && H5Tget_size(m.id) == want_size &&
               (cls != H5T_INTEGER || H5Tget_order(m.id) == H5T_ORDER_LE);
    };
    std::size_t o_head = 0, o_traj = 0, o_data = 0, o_ns = 0, o_ch = 0, o_td = 0;
    const std::size_t head_size = H5Tget_size(fhead);
    if (!member(ftype, "head", o_head, head_size, H5T_COMPOUND) || !member(ftype, "traj", o_traj, 16, H5T_VLEN) ||
        !member(ftype, "data", o_data, 16, H5T_VLEN) || !member(fhead, "number_of_samples", o_ns, 2, H5T_INTEGER) ||
        !member(fhead, "active_channels", o_ch, 2, H5T_INTEGER) ||
        !member(fhead, "trajectory_dimensions", o_td, 2, H5T_INTEGER))
        return false;
    // Member offsets come from the file's type: a corrupt one can place a member past the record.
    require(o_head + head_size <= rec && o_traj + 16 <= rec && o_data + 16 <= rec && o_ns + 2 <= head_size &&
                o_ch + 2 <= head_size && o_td + 2 <= head_size,
            w + ": the acquisition record's members lie outside its " + std::to_string(rec) + " bytes (corrupt file)");
    require(rec > 0 && rec <= file_size, w + ": records of " + std::to_string(rec) + " bytes, more than the file holds (corrupt file)");
    require(chunk <= file_size / rec + 1, w + ": chunks of " + std::to_string(chunk) +
                                              " acquisitions, more than the file can hold (corrupt file)");
    // Chunk addresses are relative to the file's base address, which follows the user block.
    hsize_t base = 0;
    {
        Id fcpl{H5Fget_create_plist(file), H5Pclose};
        if (fcpl.id < 0 || H5Pget_userblock(fcpl.id, &base) < 0) return false;
        // Heap ids as parsed below: 8-byte addresses and lengths (what libHDF5 writes by default).
        std::size_t sizeof_addr = 0, sizeof_size = 0;
        if (H5Pget_sizes(fcpl.id, &sizeof_addr, &sizeof_size) < 0 || sizeof_addr != 8 || sizeof_size != 8) return false;
    }
    // The chunk's bytes are read here, not by H5Dread_chunk: that call reads as many bytes as
    // the layout message claims, which a corrupt file sets apart from the size the index gives
    // (a fuzzed file made it write past the buffer). Here exactly the checked size is read.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    require(fd >= 0, w + ": the file cannot be reopened to check its acquisitions");
    struct Fd {
        int fd;
        ~Fd() { ::close(fd); }
    } fd_guard{fd};
    std::vector<unsigned char> buf(std::size_t(chunk) * rec);
    out.assign(std::size_t(n), Sizes{});
    for (hsize_t first = 0; first < n; first += chunk) {
        unsigned filters = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t bytes = 0;
        // From here on the layout is the one libismrmrd writes: a chunk of another size is a
        // corrupt file, refused rather than handed to the library's own read.
        require(H5Dget_chunk_info_by_coord(d, &first, &filters, &addr, &bytes) >= 0,
                w + ": the chunk of acquisitions from " + std::to_string(first) + " cannot be located (corrupt file)");
        if (addr == HADDR_UNDEF || bytes == 0) continue;  // never written: fill values, empty sequences
        require(filters == 0 && bytes == buf.size(),
                w + ": the chunk of acquisitions from " + std::to_string(first) + " holds " + std::to_string(bytes) +
                    " bytes, expected " + std::to_string(buf.size()) + " (corrupt file)");
        require(addr <= file_size && base <= file_size - addr && bytes <= file_size - addr - base,
                w + ": the chunk of acquisitions from " + std::to_string(first) +
                    " lies past the end of the file (corrupt file)");
        std::size_t got = 0;
        while (got < buf.size()) {
            const ssize_t r = ::pread(fd, buf.data() + got, buf.size() - got, off_t(base + addr + got));
            if (r < 0 && errno == EINTR) continue;
            require(r > 0, w + ": acquisitions from " + std::to_string(first) + " cannot be read (corrupt file)");
            got += std::size_t(r);
        }
        for (hsize_t k = 0; k < chunk && first + k < n; ++k) {
            const unsigned char* r = buf.data() + k * rec;
            Sizes& z = out[std::size_t(first + k)];
            z.samples = le16(r + o_head + o_ns);
            z.channels = le16(r + o_head + o_ch);
            z.traj_dims = le16(r + o_head + o_td);
            z.traj_len = le32(r + o_traj);
            z.data_len = le32(r + o_data);
            z.traj_heap = HeapId{le64(r + o_traj + 4), le32(r + o_traj + 12)};
            z.data_heap = HeapId{le64(r + o_data + 4), le32(r + o_data + 12)};
        }
    }
    // Each non-empty sequence's heap object must hold what its length claims (see HeapObjects).
    HeapObjects heap(fd, base, file_size, w);
    for (hsize_t k = 0; k < n; ++k) {
        const Sizes& z = out[std::size_t(k)];
        const auto check = [&](const char* member, std::uint64_t length, std::size_t element, const HeapId& id) {
            if (length == 0) return;
            const std::uint64_t held = heap.size_of(id);
            require(held / element >= length,
                    w + ": acquisition " + std::to_string(k) + "'s " + member + " claims " + std::to_string(length) +
                        " elements but its stored object holds " + std::to_string(held) + " bytes (" +
                        std::to_string(held / element) + " elements; corrupt file)");
        };
        check("data", z.data_len, data_stored, z.data_heap);
        check("traj", z.traj_len, traj_stored, z.traj_heap);
    }
    return true;
}

}  // namespace

void check_ismrmrd_acquisitions(const std::string& path, const std::string& dataset) {
    const ReadWatch watch(path);  // a bound on time inside libHDF5 (lumen/io/watchdog.hpp)
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const std::string w = path + ": dataset " + dataset;
    Id file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
    require(file.id >= 0, path + ": cannot open the HDF5 file (corrupt or unreadable)");
    Id d{H5Dopen2(file.id, dataset.c_str(), H5P_DEFAULT), H5Dclose};
    require(d.id >= 0, w + " cannot be opened (missing, or not a dataset)");
    Id ftype{H5Dget_type(d.id), H5Tclose};
    require(ftype.id >= 0 && H5Tget_class(ftype.id) == H5T_COMPOUND,
            w + " is not a table of ISMRMRD acquisitions (a compound {head, traj, data})");
    const int ih = H5Tget_member_index(ftype.id, "head"), it = H5Tget_member_index(ftype.id, "traj"),
              id = H5Tget_member_index(ftype.id, "data");
    require(ih >= 0 && it >= 0 && id >= 0, w + " lacks the members head, traj and data of ISMRMRD acquisitions");
    Id fhead{H5Tget_member_type(ftype.id, unsigned(ih)), H5Tclose};
    Id ftraj{H5Tget_member_type(ftype.id, unsigned(it)), H5Tclose};
    Id fdata{H5Tget_member_type(ftype.id, unsigned(id)), H5Tclose};
    require(H5Tget_class(fhead.id) == H5T_COMPOUND && H5Tget_member_index(fhead.id, "number_of_samples") >= 0 &&
                H5Tget_member_index(fhead.id, "active_channels") >= 0 &&
                H5Tget_member_index(fhead.id, "trajectory_dimensions") >= 0,
            w + ": the acquisition header lacks number_of_samples, active_channels or trajectory_dimensions");
    require(H5Tget_class(ftraj.id) == H5T_VLEN && H5Tget_class(fdata.id) == H5T_VLEN,
            w + ": traj and data are not variable-length arrays as ISMRMRD stores them");
    // The stored element types: data holds complex floats (8 bytes), traj floats (4 bytes).
    Id data_base{H5Tget_super(fdata.id), H5Tclose}, traj_base{H5Tget_super(ftraj.id), H5Tclose};
    Id data_native{H5Tget_native_type(data_base.id, H5T_DIR_ASCEND), H5Tclose};
    Id traj_native{H5Tget_native_type(traj_base.id, H5T_DIR_ASCEND), H5Tclose};
    require(data_native.id >= 0 && traj_native.id >= 0, w + ": unreadable traj or data element types");
    const std::size_t data_elem = H5Tget_size(data_native.id), traj_elem = H5Tget_size(traj_native.id);
    require(data_elem == 8 || data_elem == 4, w + ": data elements of " + std::to_string(data_elem) +
                                                   " bytes, expected complex float32 (8) or float32 (4)");
    require(traj_elem == 4, w + ": traj elements of " + std::to_string(traj_elem) + " bytes, expected float32 (4)");

    Id head_mem{H5Tcreate(H5T_COMPOUND, sizeof(Head)), H5Tclose};
    H5Tinsert(head_mem.id, "number_of_samples", offsetof(Head, samples), H5T_NATIVE_UINT16);
    H5Tinsert(head_mem.id, "active_channels", offsetof(Head, channels), H5T_NATIVE_UINT16);
    H5Tinsert(head_mem.id, "trajectory_dimensions", offsetof(Head, traj_dims), H5T_NATIVE_UINT16);
    // The stored element types themselves (no conversion): HDF5 then moves each sequence as
    // bytes instead of converting element by element a length that may be corrupt.
    Id traj_mem{H5Tvlen_create(traj_base.id), H5Tclose}, data_mem{H5Tvlen_create(data_base.id), H5Tclose};
    Id rec_mem{H5Tcreate(H5T_COMPOUND, sizeof(Record)), H5Tclose};
    H5Tinsert(rec_mem.id, "head", offsetof(Record, head), head_mem.id);
    H5Tinsert(rec_mem.id, "traj", offsetof(Record, traj), traj_mem.id);
    H5Tinsert(rec_mem.id, "data", offsetof(Record, data), data_mem.id);

    Id space{H5Dget_space(d.id), H5Sclose};
    require(space.id >= 0 && H5Sget_simple_extent_ndims(space.id) == 1, w + " is not a 1-D table of acquisitions");
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space.id, &n, nullptr);
    // Every stored acquisition takes its header (over 300 bytes) in the file: a table declaring
    // more records than the file could hold is a corrupt or crafted header, and reading its fill
    // values record by record would take practically forever.
    hsize_t file_size = 0;
    H5Fget_filesize(file.id, &file_size);
    require(n <= file_size / 64, w + " declares " + std::to_string(n) + " acquisitions, more than a file of " +
                                     std::to_string(file_size) + " bytes can hold");
    std::vector<Sizes> raw;
    if (raw_sizes(path, file.id, d.id, ftype.id, fhead.id, n, file_size, H5Tget_size(data_base.id),
                  H5Tget_size(traj_base.id), w, raw)) {
        for (hsize_t k = 0; k < n; ++k) {
            const Sizes& z = raw[std::size_t(k)];
            const std::uint64_t want_data = 8ull * z.samples * z.channels, want_traj = 4ull * z.samples * z.traj_dims;
            const std::uint64_t have_data = z.data_len * data_elem, have_traj = z.traj_len * traj_elem;
            require(have_data == want_data && have_traj == want_traj,
                    w + ": acquisition " + std::to_string(k) + " declares " + std::to_string(z.samples) +
                        " samples x " + std::to_string(z.channels) + " channels (and " + std::to_string(z.traj_dims) +
                        " trajectory dimensions) but holds " + std::to_string(have_data / 8) +
                        " complex samples and " + std::to_string(have_traj / 4) + " trajectory values; expected " +
                        std::to_string(want_data / 8) + " and " + std::to_string(want_traj / 4));
        }
        return;
    }
    VlenLimit limit{file_size};
    Id xfer{H5Pcreate(H5P_DATASET_XFER), H5Pclose};
    H5Pset_vlen_mem_manager(xfer.id, bounded_alloc, &limit, bounded_free, nullptr);
    // In blocks: a record's payload is allocated by HDF5 while it is read, so a block bounds the
    // memory held at once; the payload of the whole table is what libismrmrd reads next anyway.
    const hsize_t block = 256;
    std::vector<Record> recs(block);
    for (hsize_t first = 0; first < n; first += block) {
        const hsize_t count = std::min(block, n - first);
        Id fspace{H5Scopy(space.id), H5Sclose};
        H5Sselect_hyperslab(fspace.id, H5S_SELECT_SET, &first, nullptr, &count, nullptr);
        Id mspace{H5Screate_simple(1, &count, nullptr), H5Sclose};
        std::fill(recs.begin(), recs.end(), Record{});
        const herr_t st = H5Dread(d.id, rec_mem.id, mspace.id, fspace.id, xfer.id, recs.data());
        if (st < 0) {
            H5Dvlen_reclaim(rec_mem.id, mspace.id, xfer.id, recs.data());
            throw Error(ErrorCode::bad_input, w + ": acquisitions " + std::to_string(first) + " to " +
                                                  std::to_string(first + count - 1) + " cannot be read (corrupt file)");
        }
        std::string problem;
        for (hsize_t k = 0; k < count && problem.empty(); ++k) {
            const Record& r = recs[k];
            const std::uint64_t want_data = 8ull * r.head.samples * r.head.channels;
            const std::uint64_t want_traj = 4ull * r.head.samples * r.head.traj_dims;
            const std::uint64_t have_data = std::uint64_t(r.data.len) * data_elem;
            const std::uint64_t have_traj = std::uint64_t(r.traj.len) * traj_elem;
            if (have_data != want_data || have_traj != want_traj)
                problem = w + ": acquisition " + std::to_string(first + k) + " declares " +
                          std::to_string(r.head.samples) + " samples x " + std::to_string(r.head.channels) +
                          " channels (and " + std::to_string(r.head.traj_dims) + " trajectory dimensions) but holds " +
                          std::to_string(have_data / 8) + " complex samples and " + std::to_string(have_traj / 4) +
                          " trajectory values; expected " + std::to_string(want_data / 8) + " and " +
                          std::to_string(want_traj / 4);
        }
        H5Dvlen_reclaim(rec_mem.id, mspace.id, xfer.id, recs.data());
        require(problem.empty(), problem);
    }
}

}  // namespace lumen::io
