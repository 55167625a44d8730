#!/usr/bin/env bash
# Set up and build (tools/setup.sh), run every test, then run the suite again under
# AddressSanitizer and UndefinedBehaviorSanitizer (tools/test-sanitizers.sh), then fuzz the
# message decoders (tools/test-fuzz.sh). Each test carries
# its own TIMEOUT; --timeout is only the backstop for one that forgot.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/setup.sh
source tools/mpi-env.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300
bash tools/test-sanitizers.sh
bash tools/test-fuzz.sh   # libFuzzer on the message decoders, ~1 min
