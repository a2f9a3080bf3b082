"""Builds the native ops for setup.py (imported by it; no other user).

Three shared libraries go into tfmtl/ops/:

* ``_tfmtl_ops.so``: the TensorFlow op library (g++ with tf.sysconfig flags;
  plus the CUDA kernels when a CUDA compiler is found). It links no CUDA
  library: the CUDA runtime symbols come from libtensorflow_framework, and
  cuBLAS is opened with dlopen at the first GPU call, so it loads and runs on
  CPU-only machines.
* ``_tfmtl_kernels`` (pybind11): the CPU kernels on NumPy arrays.
* ``_tfmtl_kernels_cuda`` (pybind11, nvcc, static CUDA runtime): the CUDA
  kernels on device pointers; only when a CUDA compiler is found.

Every object is compiled in parallel, once, and reused by the libraries that
need it; objects newer than their sources are kept between builds.

Environment:
  TFMTL_BUILD_CUDA=0        skip CUDA even when nvcc is found.
  TFMTL_NVCC=/path/to/nvcc  the CUDA compiler (default: nvcc on PATH,
                            $CUDA_HOME/bin/nvcc, /usr/local/cuda/bin/nvcc).
  TFMTL_CUDA_ARCHS=80,90    GPU architectures (SASS for each, PTX for the last).
  TFMTL_BUILD_JOBS=N        parallel compile jobs (default: CPU count).
"""

from __future__ import annotations

import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import time

from setuptools import Extension
from setuptools.command.build_ext import build_ext

OPS_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(OPS_DIR)

# Framework-free CPU sources shared by the TF library and the pybind11 module.
CORE_SOURCES = ["simd_dispatch.cc", "gemm.cc", "fused_lstm.cc", "fused_lstm_double.cc"]
SIMD_SOURCES = {"simd_generic.cc": [], "simd_avx2.cc": ["-mavx2", "-mfma"],
                "simd_avx512.cc": ["-mavx512f", "-mavx512dq", "-mavx2", "-mfma"]}
TF_SOURCES = [
    "fused_lstm_ops.cc",
    "fused_lstm_kernels.cc",
    "gradient_reversal_ops.cc",
    "gradient_reversal_kernels.cc",
]
CUDA_SOURCES = ["fused_lstm_kernels.cu.cc", "gradient_reversal_kernels.cu.cc"]
CUDA_HOST_SOURCES = ["cublas_loader.cc"]

CXXFLAGS = ["-O3", "-fPIC", "-std=c++17", "-DNDEBUG", "-Wall", "-Wno-unused-function"]
TF_WARNINGS = ["-Wno-deprecated-declarations", "-Wno-sign-compare", "-Wno-unused-variable",
               "-Wno-unused-but-set-variable", "-Wno-unknown-pragmas"]


def find_nvcc() -> str | None:
    if os.environ.get("TFMTL_BUILD_CUDA", "1") == "0":
        return None
    candidates = [os.environ.get("TFMTL_NVCC"), shutil.which("nvcc")]
    if os.environ.get("CUDA_HOME"):
        candidates.append(os.path.join(os.environ["CUDA_HOME"], "bin", "nvcc"))
    candidates.append("/usr/local/cuda/bin/nvcc")
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def cuda_arch_flags() -> list[str]:
    archs = [a.strip() for a in os.environ.get("TFMTL_CUDA_ARCHS", "80,90").split(",") if a.strip()]
    flags = []
    for a in archs:
        flags += ["-gencode", f"arch=compute_{a},code=sm_{a}"]
    flags += ["-gencode", f"arch=compute_{archs[-1]},code=compute_{archs[-1]}"]
    return flags


def tf_flags():
    """(compile flags, link flags, include dir) of the installed TensorFlow, or None."""
    code = ("import tensorflow as tf, json; print(json.dumps([tf.sysconfig.get_compile_flags(), "
            "tf.sysconfig.get_link_flags(), tf.sysconfig.get_include()]))")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True).stdout
    except (subprocess.CalledProcessError, OSError):
        return None
    import json

    return json.loads(out.strip().splitlines()[-1])


def pybind_includes() -> list[str]:
    import pybind11

    return [sysconfig.get_paths()["include"], pybind11.get_include()]


def _headers() -> list[str]:
    return glob.glob(os.path.join(OPS_DIR, "*.h")) + glob.glob(os.path.join(OPS_DIR, "*.inc"))


def _dependencies(obj: str, src: str) -> list[str]:
    """The files `obj` was built from: its .d file (-MMD) or, lacking one, ops/ headers."""
    try:
        with open(obj + ".d") as f:
            text = f.read().replace("\\\n", " ")
        return [p for p in text.split(":", 1)[1].split() if p]
    except (OSError, IndexError):
        return [src, *_headers()]


def _up_to_date(obj: str, src: str) -> bool:
    if not os.path.exists(obj):
        return False
    try:
        newest = max(os.path.getmtime(p) for p in _dependencies(obj, src))
    except OSError:  # a dependency is gone
        return False
    return os.path.getmtime(obj) >= newest


class NativeExtension(Extension):
    def __init__(self, name: str, kind: str):
        super().__init__(name, sources=[])
        self.kind = kind  # "tf", "pybind", "pybind_cuda"


def native_extensions() -> list[Extension]:
    return [
        NativeExtension("tfmtl.ops._tfmtl_ops", "tf"),
        NativeExtension("tfmtl.ops._tfmtl_kernels", "pybind"),
        NativeExtension("tfmtl.ops._tfmtl_kernels_cuda", "pybind_cuda"),
    ]


class BuildNative(build_ext):
    """build_ext that compiles ops/ in parallel and links the three libraries."""

    def get_ext_filename(self, fullname):
        parts = fullname.split(".")
        if parts[-1] == "_tfmtl_ops":  # the name tf.load_op_library is given
            return os.path.join(*parts[:-1], "_tfmtl_ops.so")
        return super().get_ext_filename(fullname)

    def run(self):
        start = time.time()
        self.obj_dir = os.path.join(ROOT, "build", "native")
        os.makedirs(self.obj_dir, exist_ok=True)
        self.nvcc = find_nvcc()
        self.tf = tf_flags()
        if self.tf is None:
            self.warn("TensorFlow not importable: skipping the TF op library (_tfmtl_ops.so); "
                      "tfmtl.ops will use its TensorFlow fallbacks.")
        if self.nvcc is None:
            self.announce("no CUDA compiler found: building CPU kernels only", level=2)
        self.extensions = [
            e for e in self.extensions
            if not isinstance(e, NativeExtension)
            or (e.kind == "tf" and self.tf is not None)
            or e.kind == "pybind"
            or (e.kind == "pybind_cuda" and self.nvcc is not None)
        ]
        self._compile_all()
        super().run()
        print(f"tfmtl native build: {time.time() - start:.1f} s "
              f"(nvcc: {self.nvcc or 'none'})", flush=True)

    # -- compilation --------------------------------------------------------

    def _obj(self, src: str, tag: str) -> str:
        base = os.path.basename(src).replace(".", "_")
        return os.path.join(self.obj_dir, f"{base}.{tag}.o")

    def _jobs(self):
        """(object, command) for every object any library needs."""
        jobs = {}
        src = lambda name: os.path.join(OPS_DIR, name)  # noqa: E731
        inc = [f"-I{OPS_DIR}"]
        for name in CORE_SOURCES + ["thread_pool.cc"]:
            o = self._obj(name, "core")
            jobs[o] = (src(name), ["g++", *CXXFLAGS, *inc, "-c", src(name), "-o", o])
        for name, isa in SIMD_SOURCES.items():
            o = self._obj(name, "core")
            jobs[o] = (src(name), ["g++", *CXXFLAGS, *isa, *inc, "-c", src(name), "-o", o])
        pyinc = [f"-I{p}" for p in pybind_includes()]
        o = self._obj("pywrap_kernels.cc", "py")
        jobs[o] = (src("pywrap_kernels.cc"),
                   ["g++", *CXXFLAGS, "-fvisibility=hidden", *inc, *pyinc, "-c",
                    src("pywrap_kernels.cc"), "-o", o])
        cuda = self.nvcc is not None
        if self.tf is not None:
            tf_cflags, _, tf_include = self.tf
            extra = []
            if cuda:
                extra = ["-DGOOGLE_CUDA=1",
                         f"-I{os.path.join(tf_include, 'third_party', 'gpus', 'cuda', 'include')}"]
            for name in TF_SOURCES:
                o = self._obj(name, "tf")
                flags = [f for f in CXXFLAGS if f != "-std=c++17"] + TF_WARNINGS
                jobs[o] = (src(name), ["g++", *flags, *tf_cflags, *extra, *inc, "-c", src(name),
                                       "-o", o])
        if cuda:
            for name in CUDA_SOURCES:
                o = self._obj(name, "cu")
                jobs[o] = (src(name),
                           [self.nvcc, "-std=c++17", "-O3", "-x", "cu", "-Xcompiler", "-fPIC",
                            "--expt-relaxed-constexpr", "-DGOOGLE_CUDA=1", "-DNDEBUG",
                            *cuda_arch_flags(), *inc, "-c", src(name), "-o", o])
            for name in CUDA_HOST_SOURCES:
                o = self._obj(name, "core")
                jobs[o] = (src(name), ["g++", *CXXFLAGS, *inc, "-c", src(name), "-o", o])
            o = self._obj("pywrap_kernels_cuda.cc", "py")
            jobs[o] = (src("pywrap_kernels_cuda.cc"),
                       [self.nvcc, "-std=c++17", "-O3", "-x", "cu", "-Xcompiler", "-fPIC",
                        "-Xcompiler", "-fvisibility=hidden", "-DGOOGLE_CUDA=1", "-DNDEBUG",
                        *cuda_arch_flags(), *inc, *pyinc, "-c",
                        src("pywrap_kernels_cuda.cc"), "-o", o])
        return jobs

    def _compile_all(self):
        jobs = {o: cmd + ["-MMD" if os.path.basename(cmd[0]) != "nvcc" else "-MD", "-MF",
                          o + ".d"]
                for o, (s, cmd) in self._jobs().items()
                if self.force or not _up_to_date(o, s)}
        workers = int(os.environ.get("TFMTL_BUILD_JOBS", os.cpu_count() or 2))

        def run(item):
            obj, cmd = item
            t0 = time.time()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                if os.path.exists(obj):
                    os.remove(obj)
                raise RuntimeError(f"compiling {os.path.basename(obj)} failed:\n"
                                   f"{' '.join(cmd)}\n{proc.stderr[-8000:]}")
            return obj, time.time() - t0

        # Longest first: the TF and CUDA files dominate.
        order = sorted(jobs.items(), key=lambda kv: (".tf." not in kv[0] and ".cu." not in kv[0]))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for obj, secs in pool.map(run, order):
                print(f"  compiled {os.path.basename(obj)} in {secs:.1f} s", flush=True)

    # -- linking ------------------------------------------------------------

    def build_extension(self, ext):
        out = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        core = [self._obj(n, "core") for n in CORE_SOURCES + list(SIMD_SOURCES)]
        if ext.kind == "tf":
            objs = core + [self._obj(n, "tf") for n in TF_SOURCES]
            if self.nvcc:
                objs += [self._obj(n, "cu") for n in CUDA_SOURCES]
                objs += [self._obj(n, "core") for n in CUDA_HOST_SOURCES]
            cmd = ["g++", "-shared", "-o", out, *objs, *self.tf[1], "-ldl", "-lpthread"]
        elif ext.kind == "pybind":
            objs = core + [self._obj("thread_pool.cc", "core"),
                           self._obj("pywrap_kernels.cc", "py")]
            cmd = ["g++", "-shared", "-o", out, *objs, "-lpthread"]
        else:
            objs = core + [self._obj("thread_pool.cc", "core")]
            objs += [self._obj(n, "cu") for n in CUDA_SOURCES]
            objs += [self._obj(n, "core") for n in CUDA_HOST_SOURCES]
            objs += [self._obj("pywrap_kernels_cuda.cc", "py")]
            cmd = [self.nvcc, "-shared", *cuda_arch_flags(), "-cudart", "static",
                   "-Xlinker", "--exclude-libs,ALL", "-o", out, *objs, "-ldl", "-lpthread"]
        subprocess.run(cmd, check=True)
