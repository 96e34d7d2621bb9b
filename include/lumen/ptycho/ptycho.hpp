// The ptychography module of lumen (docs/ptychography.md): the forward model and losses, CXI scans,
// simulation, AWF / WF / ePIE / rPIE reconstruction, metrics, and the file-to-file entry points.
#pragma once

#include "lumen/ptycho/metrics.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/recon.hpp"
#include "lumen/ptycho/run.hpp"
#include "lumen/ptycho/scan.hpp"
#include "lumen/ptycho/simulate.hpp"
