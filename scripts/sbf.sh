#!/usr/bin/env bash
# scripts/sbf.sh -- build programs/meridian to a real SBF binary from crates.io, PyPI and Debian alone.
#
#   scripts/sbf.sh install   install the toolchain (idempotent; a second run takes seconds)
#   scripts/sbf.sh build     install if needed, then build target/deploy/meridian.so, the test-only
#                            oracle_writer.so and math_probe.so, and target/idl/meridian.json (the default)
#   scripts/sbf.sh oracle-writer   only target/deploy/oracle_writer.so (test-only program, tests/oracle-writer)
#   scripts/sbf.sh math-probe      only target/deploy/math_probe.so (test-only program, tests/math-probe)
#   scripts/sbf.sh idl       only the IDL
#   scripts/sbf.sh idl-update   the IDL, copied to idl/meridian.json (the committed IDL clients use; the
#                            test suite fails while the two differ)
#   scripts/sbf.sh check     print what is installed and the .so's ELF machine
#
# Where Solana's platform-tools exist, `cargo build-sbf` / `anchor build` build the same crate unchanged;
# set MERIDIAN_SBF=platform-tools to make this script call `cargo build-sbf` instead.
#
# The route (why each step is needed: docs/toolchain.md):
#   front end  Debian rustc-web 1.96 (LLVM 22) with RUSTC_BOOTSTRAP=1, -Zbuild-std against a patched copy
#              of Debian's rust-web-src 1.96 (scripts/sbf/patch-std.py), custom target
#              scripts/sbf/sbpf-upstream-solana.json (bpfel with os = "solana").
#   linker     sbpf-linker 0.2.6 (crates.io), which dlopen()s libLLVM 23: built here from PyPI's
#              mlc-llvm-static 23.1.1 static archives. LLVM 22 cannot lower Anchor code (stack arguments,
#              aggregate returns, i128 libcalls).
#   output     SBPF v3 (on v0, LLVM 23 writes the 6th+ call argument outside the caller's frame).
#
# Caches: $MERIDIAN_SBF_HOME (default ~/.cache/meridian-sbf) for the toolchain; the build itself goes to
# target/sbf (target/ is a link into ~/.cache/meridian/target, made by scripts/lib.sh, so fresh clones
# on the same machine reuse it).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

SBF_HOME=${MERIDIAN_SBF_HOME:-$HOME/.cache/meridian-sbf}
DEB_RUST_VERSION=1.96.0+dfsg1-1~deb12u2
LLVM_WHEEL_VERSION=23.1.1.post0
SBPF_LINKER_VERSION=0.2.6
TARGET_JSON=$ROOT/scripts/sbf/sbpf-upstream-solana.json
TARGET_NAME=sbpf-upstream-solana
LIBLLVM=$SBF_HOME/llvm23lib/libLLVM.so.23.1
LINKER=$SBF_HOME/tools/bin/sbpf-linker
STD_SRC=$SBF_HOME/rust-src/library
SBF_TARGET_DIR=$ROOT/target/sbf
mkdir -p "$SBF_HOME/stamps"

stamp_ok() { [ -f "$SBF_HOME/stamps/$1" ] && [ "$(cat "$SBF_HOME/stamps/$1")" = "$2" ]; }
stamp_set() { echo "$2" > "$SBF_HOME/stamps/$1"; }

# ---------------------------------------------------------------------------------------------- apt
# rustc-web/cargo-web 1.96 (the front end), rust-web-src (std's source for -Zbuild-std), g++ and the
# compression libraries to turn LLVM's static archives into a shared library.
APT_PACKAGES=("rustc-web=$DEB_RUST_VERSION" "cargo-web=$DEB_RUST_VERSION" "rust-web-src=$DEB_RUST_VERSION"
              g++ libzstd-dev zlib1g-dev unzip)
install_apt() {
  if [ "$(deb_version rustc-web)" = "$DEB_RUST_VERSION" ] && [ "$(deb_version rust-web-src)" = "$DEB_RUST_VERSION" ] \
     && [ "$(deb_version cargo-web)" = "$DEB_RUST_VERSION" ] && have_debs g++ libzstd-dev zlib1g-dev unzip; then
    return 0
  fi
  log "apt: installing rustc-web/cargo-web/rust-web-src $DEB_RUST_VERSION"
  apt_install "${APT_PACKAGES[@]}"
}

# ------------------------------------------------------------------------------------------- llvm23
install_llvm() {
  local key="mlc-llvm-static==$LLVM_WHEEL_VERSION bpf core bitreader bitwriter irreader linker passes ipo"
  if stamp_ok llvm "$key" && [ -f "$LIBLLVM" ]; then return 0; fi
  log "LLVM 23: fetching mlc-llvm-static $LLVM_WHEEL_VERSION wheels from PyPI and linking libLLVM.so"
  mkdir -p "$SBF_HOME/wheels" "$SBF_HOME/llvm23lib"
  python3 -m pip download -q --no-deps --disable-pip-version-check -d "$SBF_HOME/wheels" \
      "mlc-llvm-static==$LLVM_WHEEL_VERSION" "mlc-llvm-static-extra-targets==$LLVM_WHEEL_VERSION"
  local x="$SBF_HOME/llvm23-extract"
  rm -rf "$x" && mkdir -p "$x"
  for w in "$SBF_HOME"/wheels/mlc_llvm_static*-"$LLVM_WHEEL_VERSION"-*.whl; do (cd "$x" && unzip -q -o "$w"); done
  local cfg="$x/mlc_llvm_static/static/bin/llvm-config"
  # The wheels hold static archives only; sbpf-linker wants a shared libLLVM. --whole-archive keeps
  # every symbol of the components it needs (the BPF back end, IR reader/linker, the pass pipeline).
  # shellcheck disable=SC2046
  g++ -shared -o "$LIBLLVM.tmp" -Wl,-soname,libLLVM.so.23.1 \
      -Wl,--whole-archive $("$cfg" --link-static --libfiles bpf core bitreader bitwriter irreader linker passes ipo) \
      -Wl,--no-whole-archive $("$cfg" --link-static --system-libs) -Wl,--no-undefined
  # (grep without -q: an early exit would SIGPIPE nm and fail the pipeline under pipefail)
  nm -D --defined-only "$LIBLLVM.tmp" | grep LLVMInitializeBPFTarget >/dev/null
  mv "$LIBLLVM.tmp" "$LIBLLVM"
  ln -sf libLLVM.so.23.1 "$SBF_HOME/llvm23lib/libLLVM.so"
  rm -rf "$x"   # ~400 MB of archives; the wheels stay for a rebuild
  stamp_set llvm "$key"
}

# ------------------------------------------------------------------------------------------- linker
install_linker() {
  if [ -x "$LINKER" ] && "$LINKER" --version 2>/dev/null | grep "$SBPF_LINKER_VERSION" >/dev/null; then return 0; fi
  log "sbpf-linker $SBPF_LINKER_VERSION: cargo install (a few minutes)"
  # Debian's cargo/rustc, so the host rustup toolchain's version does not matter here.
  PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc /usr/bin/cargo install --locked sbpf-linker \
      --version "$SBPF_LINKER_VERSION" --root "$SBF_HOME/tools"
}

# ------------------------------------------------------------------------------------------- stdsrc
install_stdsrc() {
  local key
  key="$(deb_version rust-web-src) $(sha256sum "$ROOT/scripts/sbf/patch-std.py" | cut -c1-16)"
  if stamp_ok stdsrc "$key" && [ -d "$STD_SRC" ]; then return 0; fi
  log "std source: copying rust-web-src and patching it for target_os = \"solana\""
  rm -rf "$SBF_HOME/rust-src" && mkdir -p "$SBF_HOME/rust-src"
  cp -a /usr/lib/rustlib/src/rust/library "$SBF_HOME/rust-src/"
  python3 "$ROOT/scripts/sbf/patch-std.py" "$STD_SRC"
  # Cargo fingerprints -Zbuild-std crates as non-local packages (no mtimes), so a changed std source
  # would not be recompiled: drop the SBF build's artifacts instead.
  rm -rf "$SBF_TARGET_DIR/$TARGET_NAME"
  stamp_set stdsrc "$key"
}

# -------------------------------------------------------------------------------------------- shims
# The i128 libcall wrappers (see scripts/sbf/i128-libcalls.ll and programs/sbpf-i128-shim): assembled
# to bitcode with libLLVM 23 itself, so the bitcode matches the linker's LLVM.
SHIM_BC=""
install_shims() {
  local h
  h=$(sha256sum "$ROOT/scripts/sbf/i128-libcalls.ll" | cut -c1-16)
  SHIM_BC=$SBF_HOME/shims/i128-libcalls-$h.bc
  [ -f "$SHIM_BC" ] && return 0
  mkdir -p "$SBF_HOME/shims"
  python3 "$ROOT/scripts/sbf/ll2bc.py" "$LIBLLVM" "$ROOT/scripts/sbf/i128-libcalls.ll" "$SHIM_BC.tmp"
  mv "$SHIM_BC.tmp" "$SHIM_BC"
}

install_all() {
  install_apt
  install_llvm
  install_linker
  install_stdsrc
  install_shims
}

# -------------------------------------------------------------------------------------------- build
# sbf_flags: rustc flags of the registry-only route, shared by every program built here.
sbf_flags() {
  flags=(
    # bpfel with os = "solana": Solana crates take their on-chain code paths
    -C relocation-model=static
    # cpu v4 = the instruction set of SBPF v3 (32-bit ALU, signed division, ...); misaligned
    # loads/stores are legal in SBPF and save byte-by-byte copies
    -C target-cpu=v4 -C target-feature=+allows-misaligned-mem-access
    # SBPF v3 output; 4 KiB stack frames as the runtime grants
    -C link-arg=--arch=v3 -C link-arg=--llvm-args=-bpf-stack-size=4096
    -C link-arg=--llvm-args=--bpf-max-stores-per-memfunc=5
    # instructions upstream BPF has and SBPF v3 does not: indirect-jump tables (gotox), sign-extending
    # loads/moves and byte swaps (cpu v4 emits opcode 0xd7 for bswap, which the verifier rejects)
    -C link-arg=--llvm-args=--disable-gotox -C link-arg=--llvm-args=--disable-ldsx
    -C link-arg=--llvm-args=--disable-movsx -C link-arg=--llvm-args=--disable-bswap
    # the i128 libcall ABI shim
    -C "link-arg=$SHIM_BC"
    # SBPF v3 calls syscalls by hash (static syscalls), not through relocations
    --cfg 'target_feature="static-syscalls"' -A explicit_builtin_cfgs_in_flags
    # pulls in solana-compiler-builtins and the shim crate (programs/meridian/Cargo.toml)
    --cfg meridian_upstream_sbf
    # immediate-abort: std's panic machinery needs writable statics, which SBPF rejects ("relocation
    # target is not rodata or text"). A panic aborts without a message, so the program returns errors.
    -Zunstable-options -C panic=immediate-abort
    # the target claims atomics (std needs them); one thread, so they become plain loads/stores
    -C passes=lower-atomic
  )
}

# sbf_env: the environment of the registry-only route (run in a subshell).
sbf_env() {
    export PATH=/usr/bin:/bin:$SBF_HOME/tools/bin RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
    export LD_LIBRARY_PATH=$SBF_HOME/llvm23lib            # sbpf-linker dlopen()s libLLVM 23 from here
    export RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1              # std's build.rs: do not gate std as restricted
    export __CARGO_TESTS_ONLY_SRC_ROOT=$STD_SRC           # -Zbuild-std takes std from the patched copy
    export CARGO_TARGET_SBPF_UPSTREAM_SOLANA_LINKER=$LINKER
    CARGO_TARGET_SBPF_UPSTREAM_SOLANA_RUSTFLAGS="${flags[*]} ${MERIDIAN_SBF_RUSTFLAGS:-}"
    export CARGO_TARGET_SBPF_UPSTREAM_SOLANA_RUSTFLAGS
}

build_program() {
  if [ "${MERIDIAN_SBF:-upstream}" = platform-tools ]; then
    (cd "$ROOT/programs/meridian" && cargo build-sbf --sbf-out-dir "$ROOT/target/deploy")
    return 0
  fi
  install_all
  log "building programs/meridian for SBPF v3 (target/sbf)${MERIDIAN_SBF_FEATURES:+, features: $MERIDIAN_SBF_FEATURES}"
  mkdir -p "$ROOT/target/deploy"
  local flags
  sbf_flags
  (
    cd "$ROOT"
    sbf_env
    # MERIDIAN_SBF_FEATURES: program features for variant builds (book-critbit); separate target
    # dir per variant so switching does not rebuild the default
    local target_dir=$SBF_TARGET_DIR
    [ -n "${MERIDIAN_SBF_FEATURES:-}" ] && target_dir=$SBF_TARGET_DIR-${MERIDIAN_SBF_FEATURES//,/-}
    # extra flags (diagnostics such as --dump-module) change every crate's fingerprint: own dir
    [ -n "${MERIDIAN_SBF_RUSTFLAGS:-}" ] && target_dir=$target_dir-custom-flags
    # sbpf-linker also copies what it links to target/deploy/<crate>.so: keep the default
    # build's meridian.so when building a variant elsewhere
    local keep=
    if [ -n "${MERIDIAN_SBF_OUT:-}" ] && [ -f "$ROOT/target/deploy/meridian.so" ]; then
      keep=$ROOT/target/deploy/.meridian.so.keep
      cp -p "$ROOT/target/deploy/meridian.so" "$keep"
    fi
    /usr/bin/cargo build --release -p meridian --target "$TARGET_JSON" -Zjson-target-spec \
        -Zbuild-std=std,panic_abort -Zbuild-std-features= --target-dir "$target_dir" \
        ${MERIDIAN_SBF_FEATURES:+--features "$MERIDIAN_SBF_FEATURES"}
    cp "$target_dir/$TARGET_NAME/release/libmeridian.so" "$ROOT/target/deploy/.meridian.so.tmp"
    [ -z "$keep" ] || mv "$keep" "$ROOT/target/deploy/meridian.so"
  )
  # MERIDIAN_SBF_OUT: where the .so goes (default target/deploy/meridian.so)
  local out=${MERIDIAN_SBF_OUT:-$ROOT/target/deploy/meridian.so}
  mkdir -p "$(dirname "$out")"
  mv "$ROOT/target/deploy/.meridian.so.tmp" "$out"
  check_elf "$out"
}

# The test-only programs, built by the same toolchain and target dir as the program:
#   tests/oracle-writer -> target/deploy/oracle_writer.so, deployed by the local validator at the oracle
#                          programs' addresses;
#   tests/math-probe    -> target/deploy/math_probe.so, the engine's math ops on SBF for the program
#                          tests (the production program carries no probe).
build_test_program() {
  local package=$1 dir=$2 lib=$3
  if [ "${MERIDIAN_SBF:-upstream}" = platform-tools ]; then
    (cd "$ROOT/$dir" && cargo build-sbf --sbf-out-dir "$ROOT/target/deploy")
    return 0
  fi
  install_all
  log "building $dir for SBPF v3"
  local flags
  sbf_flags
  (
    cd "$ROOT"
    sbf_env
    /usr/bin/cargo build --release -p "$package" --target "$TARGET_JSON" -Zjson-target-spec \
        -Zbuild-std=std,panic_abort -Zbuild-std-features= --target-dir "$SBF_TARGET_DIR"
    cp "$SBF_TARGET_DIR/$TARGET_NAME/release/lib$lib.so" "$ROOT/target/deploy/$lib.so"
  )
  check_elf "$ROOT/target/deploy/$lib.so"
}
build_oracle_writer() { build_test_program meridian-oracle-writer tests/oracle-writer oracle_writer; }
build_math_probe() { build_test_program meridian-math-probe tests/math-probe math_probe; }

# e_machine 247 = EM_SBPF (SBF); e_flags 3 = SBPF v3.
check_elf() {
  python3 - "$1" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read(64)
assert data[:4] == b"\x7fELF", "not an ELF file"
machine, = struct.unpack_from("<H", data, 18)
flags, = struct.unpack_from("<I", data, 48)
size = len(open(sys.argv[1], "rb").read())
print(f"{sys.argv[1]}: ELF e_machine={machine} ({'SBF' if machine == 247 else 'NOT SBF'}), e_flags={flags} (SBPF v{flags}), {size} bytes")
sys.exit(0 if machine == 247 else 1)
EOF
}

build_idl() {
  log "IDL: compiling the program with anchor-lang's idl-build feature (host cargo)"
  ensure_rust_toolchain
  mkdir -p "$ROOT/target/idl"
  (cd "$ROOT" && cargo run -q -p xtask -- idl --program programs/meridian --out target/idl/meridian.json)
}

case "${1:-build}" in
  install) install_all; log "SBF toolchain ready in $SBF_HOME" ;;
  build) build_program; build_oracle_writer; build_math_probe; build_idl ;;
  program) build_program ;;
  oracle-writer) build_oracle_writer ;;
  math-probe) build_math_probe ;;
  idl) build_idl ;;
  idl-update) build_idl; cp "$ROOT/target/idl/meridian.json" "$ROOT/idl/meridian.json"; log "updated idl/meridian.json" ;;
  check)
    echo "rustc-web: $(deb_version rustc-web)  rust-web-src: $(deb_version rust-web-src)"
    echo "libLLVM:   $( [ -f "$LIBLLVM" ] && echo "$LIBLLVM" || echo missing)"
    echo "linker:    $("$LINKER" --version 2>/dev/null | head -1 || echo missing)"
    [ -f "$ROOT/target/deploy/meridian.so" ] && check_elf "$ROOT/target/deploy/meridian.so" ;;
  *) echo "usage: scripts/sbf.sh [install|build|program|oracle-writer|math-probe|idl|idl-update|check]" >&2; exit 2 ;;
esac
