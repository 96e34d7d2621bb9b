// The iterative solvers shared by CT, MRI and ptychography. They use only the vector algebra
// (lumen/linalg.hpp) and operators (lumen/linop.hpp), so they run on whichever device the
// operator and arrays live on. docs/solvers.md says what each minimises and its defaults.
//
// In all of them `x` holds the starting point on entry and the estimate on return.
#pragma once

#include <functional>
#include <vector>

#include "lumen/linop.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen {

// The element type T comes from the operator; b and x may be Arrays or Views of T.

// Conjugate gradients on (A^H A + lambda I) x = A^H b (CG-SENSE with Tikhonov weight lambda),
// i.e. min 0.5 ||A x - b||^2 + 0.5 lambda ||x||^2 (the objective reported). Uses A.apply_normal.
// Convergence measure: ||r_k|| / ||r_0|| of the normal-equation residual.
template <class T>
SolverResult cg_normal(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, double lambda,
                       const SolverOptions& options);
// Conjugate gradients for M x = rhs with M self-adjoint positive (semi)definite, given as an
// operator whose apply() is M (domain == range). Objective 0.5 x^H M x - Re <rhs, x>; measure
// ||r_k|| / ||r_0||; step = alpha_k. Throws Error(failure) if p^H M p <= 0 (M not positive).
template <class T>
SolverResult cg(const LinearOperator<T>& M, no_deduce_t<View<const T>> rhs, no_deduce_t<View<T>> x,
                const SolverOptions& options);

// CGLS: min ||A x - b||^2 + damp ||x||^2 (Paige & Saunders; the objective reported). Measure:
// ||A^H r - damp x|| / ||A^H b||.
template <class T>
SolverResult cgls(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, double damp,
                  const SolverOptions& options);

// SIRT: x <- P(x + relaxation * C A^T R (b - A x)), R = 1 / row sums of A, C = 1 / column sums,
// computed once by applying A and A^T to ones (sums below 1e-6 of the largest get weight 0);
// P = projection onto [lower, upper]; relaxation in (0, 2). Objective 0.5 ||A x - b||^2, measure
// ||x_k - x_{k-1}|| / ||x_k||.
struct SirtOptions {
    double relaxation = 1.0;
    float lower = 0.0f;          // non-negativity by default
    float upper = 3.0e38f;
};
SolverResult sirt(const LinearOperator<float>& A, View<const float> b, View<float> x, const SirtOptions& sirt,
                  const SolverOptions& options);

// A proximal map: x <- prox_{step * g}(x), in place.
template <class T>
using ProxFn = std::function<void(View<T> x, double step)>;
// and the value g(x) for the objective (may be null: objective then omits g).
template <class T>
using RegValueFn = std::function<double(View<const T> x)>;

// FISTA for min 0.5 ||A x - b||^2 + g(x) (Beck & Teboulle), with optional adaptive restart
// (O'Donoghue & Candes, function-value scheme: momentum is reset when F(x_{k+1}) > F(x_k)).
// step <= 0: 1 / (1.02 ||A||^2) by power iteration. One A and one A^H per iteration; objective
// F(x_k) exactly (the data term plus reg_value); measure ||x_k - x_{k-1}|| / ||x_k||.
struct FistaOptions {
    double step = 0.0;
    bool restart = true;
    bool momentum = true;   // false: plain ISTA (proximal gradient), for comparisons
};
template <class T>
SolverResult fista(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, const ProxFn<T>& prox,
                   const RegValueFn<T>& reg_value, const FistaOptions& fista, const SolverOptions& options);

// ADMM for min 0.5 ||A x - b||^2 + lambda TV(x) with the split z = D x (D: finite-difference
// gradient over the last `dims` axes of x, 2 or 3). x-update by `inner_cg_iterations` of CG on
// (A^H A + rho D^H D); z-update by (isotropic or anisotropic) shrinkage. Objective
// 0.5 ||A x - b||^2 + lambda TV(x); measure ||x_k - x_{k-1}|| / ||x_k||; step reported = the
// rho used in the iteration.
struct AdmmTvOptions {
    double lambda = 0.0;
    // <= 0: rho = ||A||^2 (8 power iterations): it has the units of A^H A, so the iterates do not
    // depend on how A, x and b are scaled; with adaptive_rho the start value only needs to be
    // right within orders of magnitude. See docs/solvers.md.
    double rho = 0.0;
    int dims = 2;
    bool isotropic = true;
    int inner_cg_iterations = 5;
    bool nonnegative = false;      // real images (CT): x projected onto x >= 0 after each x-update
    // Residual balancing (Boyd et al. 2011, 3.4.1, on normalised residuals): during the first 50
    // iterations rho is doubled or halved when the relative primal residual ||D x - z|| / max(||D x||, ||z||)
    // and the relative dual residual rho ||D^H (z - z_old)|| / ||rho D^H u|| differ by more than 10x.
    bool adaptive_rho = true;
};
template <class T>
SolverResult admm_tv(const LinearOperator<T>& A, no_deduce_t<View<const T>> b, no_deduce_t<View<T>> x, const AdmmTvOptions& admm,
                     const SolverOptions& options);

// Accelerated (Nesterov) gradient descent with fixed steps given by the caller (no line search),
// over one or several blocks of unknowns (e.g. object and probe), each with its own step:
//   x_{k+1} = P(y_k - step * grad f(y_k)),  y_{k+1} = x_{k+1} + beta_k (x_{k+1} - x_k),
// beta_k = (t_k - 1) / t_{k+1}, t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2. With momentum = false this is
// plain gradient descent (the Wirtinger-flow ablation). Adaptive restart (gradient scheme,
// O'Donoghue & Candes) resets t (and the momentum) when sum_b Re <y_b - x_b', x_b' - x_b> / step_b > 0
// (x' = x_{k+1}), which is <grad f(y_k), x_{k+1} - x_k> > 0 without a projection and its
// gradient-mapping form with one.
// For complex unknowns grad is the Wirtinger gradient d f / d conj(x) convention chosen by the caller.
// Order per iteration: f and grad at y_k; x = y_k - step grad; project(x); post_iteration(x);
// then the momentum step from the result. Reported: objective f(y_k) (f(x_k) without momentum),
// measure ||x_{k+1} - x_k|| / ||x_{k+1}|| over all blocks, step = blocks[0].step. No allocation
// inside the loop (per block: x_prev and grad, plus y with momentum). Projections must keep NaN
// (project_nonnegative/project_box do; lumen::clamp does not) for the divergence guard to see it.
template <class T>
struct Block {
    View<T> x;
    double step;
};
// Computes f(x) and writes its gradient for every block; returns f(x).
template <class T>
using ObjectiveGradientFn = std::function<double(const std::vector<View<const T>>& x, const std::vector<View<T>>& grad)>;
template <class T>
struct NesterovOptions {
    bool momentum = true;
    bool adaptive_restart = true;
    // Optional projection/proximal step applied to each block after the gradient step.
    std::function<void(std::vector<View<T>>& x)> project;
    // Optional hook after each iteration (e.g. probe rescaling in blind ptychography).
    std::function<void(std::vector<View<T>>& x)> post_iteration;
};
template <class T>
SolverResult nesterov(const ObjectiveGradientFn<T>& f, std::vector<Block<T>> blocks, const NesterovOptions<T>& nesterov,
                      const SolverOptions& options);

}  // namespace lumen
