// The ptychography module of lumen (docs/ptychography.md): scan.hpp (the scan in memory), model.hpp
// (the forward model and losses), recon.hpp (AWF / WF / ePIE / rPIE in memory), io.hpp (CXI scans,
// result files, previews), run.hpp (file to file), simulate.hpp, metrics.hpp, conventions.hpp.
#pragma once

#include "lumen/ptycho/conventions.hpp"
#include "lumen/ptycho/io.hpp"
#include "lumen/ptycho/metrics.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/modes.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/run.hpp"
#include "lumen/ptycho/scan.hpp"
#include "lumen/ptycho/simulate.hpp"
