#!/usr/bin/env bash
# THE test command, the same one CI runs (.ci/run): installs what the tests need, builds the
# image corpus, then runs ruff, mypy --strict and pytest.
#
#   bash scripts/test.sh [PYTEST ARGS ...]
#
# Works on a fresh Debian 12 machine as root with Python 3.11: apt-installs buildah, skopeo and
# debootstrap when missing, makes .venv, builds the corpus into $CORPUS_DIR (default
# ~/.cache/image-corpus; kept between runs) with ../shared/corpus/build.sh, and makes zstd
# copies of its images. Lint, type check and tests all run; it exits non-zero if any failed.
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null || (cd "$(dirname "$0")/.." && pwd))
cd "$root"
shared=${SHARED_DIR:-$root/../shared}
export CORPUS_DIR=${CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/image-corpus}
images=(base-debian python-slim waste-zoo)
# naive-bert (3.5 GB, ~10 minutes to build the first time) carries the acceptance checks of the
# causes of waste; it is built but not copied to zstd
large=(naive-bert)
step() { printf '\n==> %s\n' "$*"; }

step "system packages"
# command:package. rpm's tools write the rpm database the rpm cataloger is tested on; npm
# installs the packages the npm cataloger is checked against.
missing=()
for pair in buildah:buildah skopeo:skopeo debootstrap:debootstrap rpmbuild:rpm npm:npm; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "buildah, skopeo, debootstrap, rpm, npm present"
fi

step "python environment (.venv)"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv; then  # Debian's own python3 needs python3-venv for ensurepip
    rm -rf .venv
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    "$python" -m venv .venv
  fi
fi
# reinstall only when pyproject.toml changed (the editable install picks up new modules itself)
stamp=.venv/.bloatscope-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
where=$(.venv/bin/python -c 'import importlib.util as u; s = u.find_spec("bloatscope"); print(s.origin if s else "")')
# scripts/quickstart.sh installs a copy (pip install .); tests must see the working tree
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ "$where" != "$root/src/bloatscope/__init__.py" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  echo "$want" > "$stamp"
fi
.venv/bin/python --version
export PATH=$root/.venv/bin:$PATH

step "image corpus in $CORPUS_DIR: ${images[*]} ${large[*]}"
bash "$shared/corpus/build.sh" "${images[@]}" "${large[@]}"
for n in "${images[@]}"; do
  z=$CORPUS_DIR/$n.zstd.oci
  [ -s "$z/index.json" ] && continue
  rm -rf "$z" "$z.tmp"
  skopeo copy -q --dest-compress --dest-compress-format zstd \
    "oci-archive:$CORPUS_DIR/$n.oci.tar" "oci:$z.tmp:$n:latest"
  mv "$z.tmp" "$z"
  echo "made $n.zstd.oci (zstd layers)"
done

failed=()
dirs=(); for d in src tests bench; do [ -d "$d" ] && dirs+=("$d"); done

step "ruff check ${dirs[*]}"
ruff check "${dirs[@]}" || failed+=(ruff)

step "mypy --strict src"
mypy --strict src || failed+=(mypy)

step "pytest -q $*"
pytest -q "$@" || failed+=(pytest)

if [ ${#failed[@]} -gt 0 ]; then
  printf '\n==> FAILED: %s\n' "${failed[*]}"
  exit 1
fi
printf '\n==> all checks passed\n'
