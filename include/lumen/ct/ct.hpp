// Everything of lumen's CT module (docs/ct.md).
#pragma once

#include "lumen/ct/fdk.hpp"
#include "lumen/ct/geometry.hpp"
#include "lumen/ct/io.hpp"
#include "lumen/ct/phantom.hpp"
#include "lumen/ct/projector.hpp"
#include "lumen/ct/recon.hpp"
#include "lumen/ct/run.hpp"
#include "lumen/ct/scan.hpp"
#include "lumen/ct/simulate.hpp"
