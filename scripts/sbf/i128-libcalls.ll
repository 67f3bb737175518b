; i128 libcalls for the registry-only SBF route, with the signature LLVM 23's BPF back end uses when it
; calls them: i128 arguments and results by value. Each forwards to a u64-only helper in
; programs/sbpf-i128-shim (five u64/pointer arguments, no return value: the same ABI for rustc and
; LLVM). scripts/sbf.sh assembles this file to bitcode and hands it to sbpf-linker.
target datalayout = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"
target triple = "bpfel"

declare void @sbpf_shim_mul128(i64, i64, i64, i64, ptr)
declare void @sbpf_shim_udivmod128(i64, i64, i64, i64, ptr)
declare void @sbpf_shim_sdivmod128(i64, i64, i64, i64, ptr)
declare void @sbpf_shim_shift128(i64, i64, i64, i64, ptr)
declare void @sbpf_shim_smulo128(i64, i64, i64, i64, ptr)

; out[idx] | out[idx + 1] << 64
define private i128 @load_pair(ptr %out, i64 %idx) alwaysinline {
  %p0 = getelementptr inbounds i64, ptr %out, i64 %idx
  %lo = load i64, ptr %p0, align 8
  %idx1 = add i64 %idx, 1
  %p1 = getelementptr inbounds i64, ptr %out, i64 %idx1
  %hi = load i64, ptr %p1, align 8
  %lo128 = zext i64 %lo to i128
  %hi128 = zext i64 %hi to i128
  %hi_shifted = shl i128 %hi128, 64
  %r = or i128 %hi_shifted, %lo128
  ret i128 %r
}

; calls f(a.lo, a.hi, b.lo, b.hi, out) and returns the pair at out[idx]
define private i128 @binary(ptr %f, i128 %a, i128 %b, i64 %idx) alwaysinline {
  %out = alloca [4 x i64], align 8
  %al = trunc i128 %a to i64
  %a_hi = lshr i128 %a, 64
  %ah = trunc i128 %a_hi to i64
  %bl = trunc i128 %b to i64
  %b_hi = lshr i128 %b, 64
  %bh = trunc i128 %b_hi to i64
  call void %f(i64 %al, i64 %ah, i64 %bl, i64 %bh, ptr %out)
  %r = call i128 @load_pair(ptr %out, i64 %idx)
  ret i128 %r
}

define i128 @__multi3(i128 %a, i128 %b) {
  %r = call i128 @binary(ptr @sbpf_shim_mul128, i128 %a, i128 %b, i64 0)
  ret i128 %r
}
define i128 @__udivti3(i128 %a, i128 %b) {
  %r = call i128 @binary(ptr @sbpf_shim_udivmod128, i128 %a, i128 %b, i64 0)
  ret i128 %r
}
define i128 @__umodti3(i128 %a, i128 %b) {
  %r = call i128 @binary(ptr @sbpf_shim_udivmod128, i128 %a, i128 %b, i64 2)
  ret i128 %r
}
define i128 @__divti3(i128 %a, i128 %b) {
  %r = call i128 @binary(ptr @sbpf_shim_sdivmod128, i128 %a, i128 %b, i64 0)
  ret i128 %r
}
define i128 @__modti3(i128 %a, i128 %b) {
  %r = call i128 @binary(ptr @sbpf_shim_sdivmod128, i128 %a, i128 %b, i64 2)
  ret i128 %r
}

; checked signed multiply (Rust's i128::checked_mul and overflow-checked i128 `*`): the wrapped
; product, and *overflow = 1 when the exact product does not fit i128
define i128 @__muloti4(i128 %a, i128 %b, ptr %overflow) {
  %out = alloca [4 x i64], align 8
  %al = trunc i128 %a to i64
  %a_hi = lshr i128 %a, 64
  %ah = trunc i128 %a_hi to i64
  %bl = trunc i128 %b to i64
  %b_hi = lshr i128 %b, 64
  %bh = trunc i128 %b_hi to i64
  call void @sbpf_shim_smulo128(i64 %al, i64 %ah, i64 %bl, i64 %bh, ptr %out)
  %r = call i128 @load_pair(ptr %out, i64 0)
  %fp = getelementptr inbounds i64, ptr %out, i64 2
  %f64 = load i64, ptr %fp, align 8
  %f32 = trunc i64 %f64 to i32
  store i32 %f32, ptr %overflow, align 4
  ret i128 %r
}

; shifts: kind 0 = shl, 1 = lshr, 2 = ashr
define private i128 @shift(i128 %a, i32 %b, i64 %kind) alwaysinline {
  %out = alloca [2 x i64], align 8
  %al = trunc i128 %a to i64
  %a_hi = lshr i128 %a, 64
  %ah = trunc i128 %a_hi to i64
  %b64 = zext i32 %b to i64
  call void @sbpf_shim_shift128(i64 %al, i64 %ah, i64 %b64, i64 %kind, ptr %out)
  %r = call i128 @load_pair(ptr %out, i64 0)
  ret i128 %r
}
define i128 @__ashlti3(i128 %a, i32 %b) {
  %r = call i128 @shift(i128 %a, i32 %b, i64 0)
  ret i128 %r
}
define i128 @__lshrti3(i128 %a, i32 %b) {
  %r = call i128 @shift(i128 %a, i32 %b, i64 1)
  ret i128 %r
}
define i128 @__ashrti3(i128 %a, i32 %b) {
  %r = call i128 @shift(i128 %a, i32 %b, i64 2)
  ret i128 %r
}
