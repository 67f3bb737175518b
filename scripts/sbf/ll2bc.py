"""Assemble LLVM IR text to bitcode with a given libLLVM, through the LLVM C API (no llvm-as needed).

usage: python3 ll2bc.py libLLVM.so in.ll out.bc
"""
import ctypes
import sys

lib_path, src_path, out_path = sys.argv[1:4]
L = ctypes.CDLL(lib_path)
L.LLVMContextCreate.restype = ctypes.c_void_p
L.LLVMCreateMemoryBufferWithMemoryRangeCopy.restype = ctypes.c_void_p
L.LLVMCreateMemoryBufferWithMemoryRangeCopy.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
L.LLVMParseIRInContext.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                   ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_char_p)]
L.LLVMVerifyModule.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
L.LLVMWriteBitcodeToFile.argtypes = [ctypes.c_void_p, ctypes.c_char_p]

src = open(src_path, "rb").read()
ctx = L.LLVMContextCreate()
buf = L.LLVMCreateMemoryBufferWithMemoryRangeCopy(src, len(src), b"in.ll")
module, err = ctypes.c_void_p(), ctypes.c_char_p()
if L.LLVMParseIRInContext(ctx, buf, ctypes.byref(module), ctypes.byref(err)):
    sys.exit("parse error: " + err.value.decode())
if L.LLVMVerifyModule(module, 2, ctypes.byref(err)):  # 2 = LLVMReturnStatusAction
    sys.exit("verify error: " + err.value.decode())
if L.LLVMWriteBitcodeToFile(module, out_path.encode()):
    sys.exit("writing bitcode failed")
