#!/usr/bin/env bash
# Set up a virtual environment (Python >= 3.12) in .venv and run a task in it.
#   bash scripts/dev.sh demo    -> runs examples/quickstart.py
#   bash scripts/dev.sh test    -> lint and type check, then the test suite
#   bash scripts/dev.sh lint    -> ruff (lint + format check) and mypy on the whole package
#   bash scripts/dev.sh bench   -> runs the benchmarks
#   bash scripts/dev.sh bench --quick [--record]
#                               -> a reduced run of every benchmark against benchmarks/recorded.json
#                                  (fails when a figure is worse than its noise allows)
#   bash scripts/dev.sh docs    -> builds the documentation site (warnings are errors), the gallery executed
#   bash scripts/dev.sh wheel   -> builds the sdist and the wheel (python -m build), installs the wheel into
#                                  a fresh virtual environment and runs the quick start from it
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidates=(python3.13 python3.12 python3)
  local root
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for v in "$root"/versions/3.1[2-9]*/bin/python; do candidates+=("$v"); done
  for py in "${candidates[@]}"; do
    if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
      command -v "$py" 2>/dev/null || echo "$py"
      return 0
    fi
  done
  return 1
}

setup() {
  local stamp=.venv/.installed
  local want
  want=$(sha1sum pyproject.toml | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  local py
  if ! py=$(find_python); then
    echo "error: pymc_ais needs Python >= 3.12 (pymc 6); none found among python3.13, python3.12, python3 or pyenv's versions" >&2
    exit 1
  fi
  echo "setting up .venv with $py" >&2
  [ -x .venv/bin/python ] || "$py" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e ".[test]" >&2
  echo "$want" > "$stamp"
}

lint() {
  .venv/bin/python -m ruff check .
  .venv/bin/python -m ruff format --check .
  .venv/bin/python -m mypy
}

task=${1:-test}
shift || true
setup
case "$task" in
  demo) exec .venv/bin/python examples/quickstart.py "$@" ;;
  lint) lint ;;
  test)
    lint
    exec .venv/bin/python -m pytest -q "$@" ;;
  bench)
    if [ "${1:-}" = "--quick" ]; then  # no baselines: nothing to install
      shift
      exec .venv/bin/python benchmarks/guard.py "$@"
    fi
    .venv/bin/python -m pip install --quiet -e ".[bench]" >&2  # SALib and OpenTURNS, baselines only
    .venv/bin/python benchmarks/compile_throughput.py
    .venv/bin/python benchmarks/gaussian_moments.py "$@"
    .venv/bin/python benchmarks/cantilever_laws.py "$@"
    .venv/bin/python benchmarks/warnings_panel.py
    for case in linear four_branch four_branch_rare oscillator; do
      .venv/bin/python benchmarks/rare_events.py --case "$case"
    done
    .venv/bin/python benchmarks/non_gaussian_inputs.py
    .venv/bin/python benchmarks/high_dimension.py
    .venv/bin/python benchmarks/ishigami_sobol.py
    .venv/bin/python benchmarks/eight_schools_priors.py --nuts --smc
    .venv/bin/python benchmarks/regression_priors.py --nuts
    .venv/bin/python benchmarks/posterior_tails.py --dim 10 --nuts
    .venv/bin/python benchmarks/posterior_tails_counts.py --dim 30
    .venv/bin/python benchmarks/scaling.py
    .venv/bin/python benchmarks/executor.py
    exec .venv/bin/python benchmarks/cantilever_sobol.py "$@" ;;
  docs)
    .venv/bin/python -m pip install --quiet -e ".[docs]" >&2
    exec .venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html "$@" ;;
  wheel)
    # a clean room: build in one throwaway venv, install the wheel in another, run the
    # quick start from a folder outside the clone (so only the installed package is seen)
    py=$(find_python)
    room=$(mktemp -d)
    trap 'rm -rf "$room"' EXIT
    rm -rf dist
    "$py" -m venv "$room/build"
    "$room/build/bin/python" -m pip install --quiet --upgrade pip build >&2
    "$room/build/bin/python" -m build --outdir dist . >&2  # the sdist, then the wheel built from it
    ls dist/*.tar.gz dist/*.whl
    "$py" -m venv "$room/user"
    "$room/user/bin/python" -m pip install --quiet --upgrade pip >&2
    "$room/user/bin/python" -m pip install --quiet dist/*.whl >&2
    cp examples/quickstart.py "$room/"
    (cd "$room" && "$room/user/bin/python" -c 'import pymc_ais, sys; print("installed:", pymc_ais.__version__, pymc_ais.__file__); sys.exit("site-packages" not in pymc_ais.__file__)')
    (cd "$room" && "$room/user/bin/python" quickstart.py --quick) | tee "$room/out.txt"
    grep -q "identical = True" "$room/out.txt"
    echo "wheel: 1 passed, 0 failed" ;;
  *) echo "unknown task '$task' (demo, test, lint, bench, docs, wheel)" >&2; exit 2 ;;
esac
