# Shared settings for the project's scripts (sourced, not run).
# Everything built from upstream lives under $CACHE, outside the repository.
KVER=${KVER:-7.3}
CACHE=${VFIO_RS_CACHE:-$HOME/.cache/vfio-rs}
BINDGEN=${BINDGEN:-$CACHE/cargo/bin/bindgen}
export RUSTC=${RUSTC:-/usr/bin/rustc} RUSTDOC=${RUSTDOC:-/usr/bin/rustdoc}
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}
export LLVM=${LLVM:--19}
mkdir -p "$CACHE"

step() { printf '\n==> [%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
