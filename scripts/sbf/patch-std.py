"""Teach a copy of Debian's rust-web-src 1.96 std about target_os = "solana" (our custom SBF target).

std has no Solana port. Every change routes "solana" to an implementation std already has for other
bare platforms, so -Zbuild-std can compile std for scripts/sbf/sbpf-upstream-solana.json:
  - sys/alloc: 8-byte MIN_ALIGN for bpf, and a System allocator that always fails. Solana programs
    install their own #[global_allocator] (the bump heap of solana-program-entrypoint), so System
    is never used.
  - sys/io/error: the generic (errno-less) implementation.
  - sys/random: "unsupported" (hashmap_random_keys aborts; nothing calls it after the RandomState edit).
  - sys/thread_local: the no-threads storage (a program runs on a single thread).
  - hash/random: RandomState::new returns fixed keys (its thread-local key cache is a writable static).
Each edit asserts its anchor text exists, so another std version fails loudly instead of silently.

usage: python3 patch-std.py <copy of library/>
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1]) / "std" / "src"


def patch(rel, old, new):
    path = root / rel
    text = path.read_text()
    if new in text:
        return  # already patched: idempotent
    assert old in text, f"{rel}: anchor text not found, is this rust-src 1.96?\n{old}"
    path.write_text(text.replace(old, new, 1))


patch("sys/alloc/mod.rs",
      '    target_arch = "x86_64",\n',
      '    target_arch = "x86_64",\n    target_arch = "bpf",\n')
patch("sys/alloc/mod.rs",
      '    target_os = "zkvm" => {\n        mod zkvm;\n    }',
      '    target_os = "zkvm" => {\n        mod zkvm;\n    }\n    target_os = "solana" => {\n        mod solana;\n    }')
(root / "sys/alloc/solana.rs").write_text('''//! target_os = "solana": programs bring their own #[global_allocator]; System always fails.
use crate::alloc::{GlobalAlloc, Layout, System};

#[stable(feature = "alloc_system_type", since = "1.28.0")]
unsafe impl GlobalAlloc for System {
    #[inline]
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        crate::ptr::null_mut()
    }
    #[inline]
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}
''')
patch("sys/io/error/mod.rs",
      '        target_os = "zkvm",\n    ) => {\n        mod generic;',
      '        target_os = "zkvm",\n        target_os = "solana",\n    ) => {\n        mod generic;')
patch("sys/random/mod.rs",
      '        target_os = "vexos",\n    ) => {\n        // FIXME: finally remove',
      '        target_os = "vexos",\n        target_os = "solana",\n    ) => {\n        // FIXME: finally remove')
patch("sys/random/mod.rs",
      '#[cfg(not(any(\n    target_os = "linux",\n    target_os = "android",\n',
      '#[cfg(not(any(\n    target_os = "linux",\n    target_os = "android",\n    target_os = "solana",\n')

# hash/random: RandomState::new caches its keys in a thread_local, i.e. a writable static, which SBPF
# rejects at link time ("relocation target is not rodata or text"). Anchor 1.2's duplicate-mutable-
# account check builds a std HashSet, so programs need it. One thread, no OS entropy, inputs bounded by
# the transaction: fixed keys.
patch("hash/random.rs",
      '    pub fn new() -> RandomState {\n',
      '    pub fn new() -> RandomState {\n'
      '        #[cfg(target_os = "solana")]\n'
      '        return RandomState { k0: 0, k1: 0 };\n')

# thread_local lists "vexos" in several cfg blocks (storage and thread-exit hooks): add solana to each.
path = root / "sys/thread_local/mod.rs"
text = path.read_text()
if 'target_os = "solana"' not in text:
    text, count = re.subn(r'(\n(\s*)target_os = "vexos",\n)', r'\1\2target_os = "solana",\n', text)
    assert count >= 2, f"sys/thread_local/mod.rs: expected >= 2 vexos cfgs, found {count}"
    path.write_text(text)
print("std patched for target_os = \"solana\"")
