#!/usr/bin/env bash
# Download the pure-Python wheels that the GPU machine lacks (it has PyTorch,
# numpy, scipy, opencv, matplotlib, but no OpenMMLab packages and no
# internet) into .whl/, for tools/gpu/nwucla_paired_sweep.sh to install
# there. Run here, once, in the repository root; carry .whl to the device.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>.git/info/exclude
mkdir -p .whl
for pkg in mmengine==0.10.7 mmcv-lite==2.0.1 mmaction2==1.1.0 addict==2.4.0 \
    yapf==0.43.0 termcolor==3.3.0 platformdirs==4.14.9; do
  python3 -m pip download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    -d .whl "$pkg"
done
ls -l .whl
