#!/bin/sh
# The TomoPy tooth (../shared/realdata/tomopy_tooth.h5, BSD-3-Clause, UChicago Argonne LLC): a
# parallel-beam micro-CT slab measured at the APS, written by dxchange. lumen reads it as it is;
# what the file leaves out comes from the command line:
#   --beam parallel   DXchange has no geometry group (a synchrotron beam is parallel)
#   --pixel-mm 1      the file gives no pixel size: with 1, the volume is attenuation per pixel
#   (the rotation axis) the file does not place it: lumen estimates it from the opposing views
#                     0 and 179 degrees (column 295.6 of 640); --centre COLUMN overrides it
# theta carries units="degrees", which lumen honours (--theta-units would override it).
#
# Expected (docs/realdata/ct_tooth.png): a molar cross-section with sharp edges and dark cracks;
# with the axis in the middle (--centre 319.5) every edge doubles and
# `ct.rotation_axis` warns that opposing views agree best at column 295.6.
set -e
scan=${1:-$(dirname "$0")/../../shared/realdata/tomopy_tooth.h5}
out=${2:-tooth_fdk.h5}
lumen-ct info "$scan" --beam parallel --pixel-mm 1
lumen-ct recon "$scan" -o "$out" --beam parallel --pixel-mm 1 --method fdk
