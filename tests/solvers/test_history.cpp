// write_history: the per-iteration history as float64 vectors in an HDF5 output.
#include <string>

#include "lumen/io/hdf5.hpp"
#include "lumen/io/history.hpp"
#include "lumen/linop.hpp"
#include "lumen/solvers/solvers.hpp"
#include "tests/solvers/dense_ref.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

TEST(History, WrittenAsFloat64WithAttributes) {
    const auto A = ref::random_mat<double>(30, 20, 1);
    LinOpPtr<float> op = dense_matrix<float>(ref::to_array<float>(A, Device::cpu));
    Array<float> b = ref::to_array<float>(ref::random_vec<double>(30, 2), Shape{30}, Device::cpu), x(Shape{20});
    SolverOptions opt;
    opt.max_iterations = 7;
    const SolverResult res = cgls<float>(*op, b, x.view(), 0.0, opt);
    ASSERT_EQ(res.history.size(), 7u);

    const std::string path = test::temp_path("history.h5");
    {
        io::H5Writer out(path);
        out.write("/volume", x);
        write_history(out, res);
        write_history(out, res, "/lumen/inner_history");
        out.commit();
    }
    io::H5File f = io::H5File::open(path);
    for (const char* name : {"iteration", "objective", "residual", "step", "elapsed_s"}) {
        const io::DatasetInfo info = f.info(std::string("/history/") + name);
        EXPECT_EQ(info.dtype, "float64") << name;
        EXPECT_EQ(info.shape, (Shape{7})) << name;
    }
    const Array<float> obj = f.read_float("/history/objective", 1), it = f.read_float("/history/iteration", 1);
    for (std::size_t k = 0; k < 7; ++k) {
        EXPECT_FLOAT_EQ(obj[index_t(k)], float(res.history[k].objective));
        EXPECT_EQ(it[index_t(k)], float(k + 1));
    }
    EXPECT_EQ(f.attr_string("/history", "stop_reason"), "max_iterations");
    EXPECT_EQ(f.attr_double("/history", "iterations"), 7.0);
    EXPECT_EQ(f.attr_double("/history", "converged"), 0.0);
    EXPECT_TRUE(f.exists("/lumen/inner_history/residual"));
}

TEST(History, EmptyHistoryAndBadGroup) {
    const std::string path = test::temp_path("empty.h5");
    io::H5Writer out(path);
    SolverResult res;
    res.stop_reason = "tolerance";
    write_history(out, res);
    EXPECT_THROW(write_history(out, res, "relative"), Error);
    out.commit();
    io::H5File f = io::H5File::open(path);
    EXPECT_EQ(f.info("/history/objective").shape, (Shape{0}));
}
