# shellcheck shell=bash
# Helpers shared by the scripts. Sourced, not run.
#
# Build cache: target/ is a symlink into $MERIDIAN_CACHE (default ~/.cache/meridian), so a fresh
# clone on a machine that built Meridian before (CI caches $HOME) reuses every compiled crate.
# Set MERIDIAN_CACHE= (empty) to keep a plain ./target.

log() { printf '\033[1;34m[meridian]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[meridian] error:\033[0m %s\n' "$*" >&2; exit 1; }

deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
have_debs() {
  local p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || return 1
  done
}
apt_install() {
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "apt packages needed ($*): run as root or install sudo"
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# target/ -> persistent cache (idempotent; leaves an existing real directory alone)
link_target_dir() {
  local root=$1
  local cache=${MERIDIAN_CACHE-$HOME/.cache/meridian}
  [ -n "$cache" ] || return 0
  if [ ! -e "$root/target" ] && [ ! -L "$root/target" ]; then
    mkdir -p "$cache/target"
    ln -s "$cache/target" "$root/target"
  fi
}

link_target_dir "$ROOT"

# Host packages the Rust build needs beyond a stock machine: libclang for bindgen (RocksDB inside
# the in-process validator). OpenSSL, RocksDB and protoc are compiled from source by their crates.
ensure_host_deps() {
  ensure_rust_toolchain
  have_debs libclang-dev pkg-config make perl && return 0
  log "apt: installing libclang-dev pkg-config (for the validator's RocksDB bindings)"
  apt_install libclang-dev pkg-config make perl
}

# rust-toolchain.toml pins the host toolchain (with clippy and rustfmt). Toolchains cannot be
# downloaded on machines without access to static.rust-lang.org: when rustup lacks the pinned one but
# its stable toolchain is that very version, the stable toolchain's directory is linked under the
# pinned name (`rustup toolchain link` refuses official names such as 1.95.0; a directory link is
# what rustup itself would find).
ensure_rust_toolchain() {
  command -v rustup >/dev/null || return 0
  local want stable host dir
  want=$(sed -n 's/^channel = "\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")
  rustup toolchain list | grep -q "^$want" && return 0
  stable=$(rustup run stable rustc --version 2>/dev/null | awk '{print $2}')
  [ "$stable" = "$want" ] || return 0
  host=$(rustup run stable rustc -vV | sed -n 's/^host: //p')
  dir=${RUSTUP_HOME:-$HOME/.rustup}/toolchains
  log "rustup: linking the installed stable toolchain ($stable) as $want-$host (rust-toolchain.toml)"
  ln -sfn "$(rustup run stable rustc --print sysroot)" "$dir/$want-$host"
}

# Node.js and the TypeScript example's packages (examples/typescript, run by an e2e test):
# `npm ci` from its package-lock.json (npm caches downloads in ~/.npm), skipped while node_modules
# was installed from this lock file with this node. --ignore-scripts: nothing is compiled (the
# packages' native add-ons are optional; esbuild's binary comes as an npm package).
ensure_ts_example() {
  local dir="$ROOT/examples/typescript"
  local stamp="$dir/node_modules/.meridian-installed"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "apt: installing nodejs npm (for the TypeScript example)"
    apt_install nodejs npm
  fi
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) node $(node --version)"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  log "npm ci in examples/typescript"
  npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
  printf '%s\n' "$want" > "$stamp"
}

# Builds every workspace crate, test and binary in ONE cargo invocation. `cargo test --workspace`
# and this resolve features identically, so nothing is compiled twice (the validator alone is
# ~30 min on 2 cores).
build_workspace() {
  (cd "$ROOT" && cargo test --workspace --locked --no-run)
}
