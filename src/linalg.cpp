// Vector algebra: validation and dispatch of the functors in kernels/linalg/vector_ops.hpp.
#include "lumen/linalg.hpp"

#include <cmath>

#include "kernels/linalg/vector_ops.hpp"
#include "src/executor.hpp"

namespace lumen {

using detail::common_device;
using detail::common_size;
using detail::for_each;
using detail::reduce;

template <class T>
acc_t<T> dot(View<const T> x, View<const T> y) {
    const index_t n = common_size("dot", x, y);
    return reduce<acc_t<T>>(common_device("dot", x, y), n, kern::DotF<T, acc_t<T>>{x.data(), y.data()});
}
template <class T>
double norm2_squared(View<const T> x) {
    return reduce<double>(x.device(), x.size(), kern::NormSqF<T>{x.data()});
}
template <class T>
double norm2(View<const T> x) { return std::sqrt(norm2_squared(x)); }

template <class T>
double max_abs(View<const T> x) {
    if (x.empty()) return 0.0;
    return std::sqrt(reduce<double>(x.device(), x.size(), kern::NormSqF<T>{x.data()}, kern::MaxOp{}));
}
template <class T>
acc_t<T> sum(View<const T> x) {
    return reduce<acc_t<T>>(x.device(), x.size(), kern::SumF<T, acc_t<T>>{x.data()});
}
template <class T>
bool all_finite(View<const T> x) {
    return reduce<double>(x.device(), x.size(), kern::NonFiniteF<T>{x.data()}) == 0.0;
}
template <class T>
void axpy(T a, View<const T> x, View<T> y) {
    const index_t n = common_size("axpy", x, y);
    for_each(common_device("axpy", x, y), n, kern::AxpyF<T>{a, x.data(), y.data()});
}
template <class T>
void axpby(T a, View<const T> x, T b, View<T> y) {
    const index_t n = common_size("axpby", x, y);
    for_each(common_device("axpby", x, y), n, kern::AxpbyF<T>{a, x.data(), b, y.data()});
}
template <class T>
void lin_comb(T a, View<const T> x, T b, View<const T> y, View<T> out) {
    const index_t n = common_size("lin_comb", x, y, out);
    for_each(common_device("lin_comb", x, y, out), n, kern::LinCombF<T>{a, x.data(), b, y.data(), out.data()});
}
template <class T>
void scale(T a, View<T> x) {
    for_each(x.device(), x.size(), kern::ScaleF<T>{a, x.data()});
}
template <class T>
void fill(View<T> x, T value) {
    for_each(x.device(), x.size(), kern::FillF<T>{value, x.data()});
}
template <class T>
void mul(View<const T> x, View<const T> y, View<T> out) {
    const index_t n = common_size("mul", x, y, out);
    for_each(common_device("mul", x, y, out), n, kern::MulF<T>{x.data(), y.data(), out.data()});
}
template <class T>
void conj_mul(View<const T> x, View<const T> y, View<T> out) {
    const index_t n = common_size("conj_mul", x, y, out);
    for_each(common_device("conj_mul", x, y, out), n, kern::ConjMulF<T>{x.data(), y.data(), out.data()});
}
void clamp(View<float> x, float lo, float hi) {
    for_each(x.device(), x.size(), kern::ClampF{lo, hi, x.data()});
}

#define LUMEN_LINALG_INSTANTIATE(T)                                                  \
    template acc_t<T> dot<T>(View<const T>, View<const T>);                          \
    template double norm2_squared<T>(View<const T>);                                 \
    template double norm2<T>(View<const T>);                                         \
    template double max_abs<T>(View<const T>);                                       \
    template acc_t<T> sum<T>(View<const T>);                                         \
    template bool all_finite<T>(View<const T>);                                      \
    template void axpy<T>(T, View<const T>, View<T>);                                \
    template void axpby<T>(T, View<const T>, T, View<T>);                            \
    template void lin_comb<T>(T, View<const T>, T, View<const T>, View<T>);          \
    template void scale<T>(T, View<T>);                                              \
    template void fill<T>(View<T>, T);                                               \
    template void mul<T>(View<const T>, View<const T>, View<T>);                     \
    template void conj_mul<T>(View<const T>, View<const T>, View<T>);
LUMEN_LINALG_INSTANTIATE(float)
LUMEN_LINALG_INSTANTIATE(complex64)

}  // namespace lumen
