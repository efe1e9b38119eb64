# Chooses how llama.cpp is compiled on this machine. Sourced by scripts/setup.sh
# (the llama-cpp-python wheel) and bench/build_llama_bench.sh (llama-bench), so
# that both are built with exactly the same flags. Sets: backend, variant,
# LLAMA_CMAKE_ARGS, flags_key. Needs a `die` function.
#
# Backend: Metal on macOS; CUDA when nvcc is installed AND an NVIDIA driver with
# a GPU is present (a CUDA build without a driver cannot even be imported);
# otherwise a portable CPU build. A native CPU build is never used: it picks up
# instructions (AMX) that crashed llama.cpp on our machines, and an app built on
# one machine must run on others.
backend="${HEARTH_LLAMA_BACKEND:-auto}"
if [[ "$backend" == auto ]]; then
    if [[ "$(uname -s)" == Darwin ]]; then backend=metal
    elif command -v nvcc >/dev/null && command -v nvidia-smi >/dev/null \
            && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then backend=cuda
    else backend=cpu; fi
fi
case "$(uname -m)" in
    x86_64|amd64) CPU_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" ;;
    *)            CPU_FLAGS="-DGGML_NATIVE=OFF" ;;
esac
case "$backend" in
    cpu)   LLAMA_CMAKE_ARGS="$CPU_FLAGS"; variant="cpu" ;;
    cuda)  LLAMA_CMAKE_ARGS="$CPU_FLAGS -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=native"
           variant="cuda-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')" ;;
    metal) LLAMA_CMAKE_ARGS="-DGGML_METAL=ON -DGGML_NATIVE=OFF"; variant="metal" ;;
    *)     die "HEARTH_LLAMA_BACKEND must be cpu, cuda or metal (got '$backend')" ;;
esac
# pip's own wheel cache ignores CMAKE_ARGS, so we keep our own, keyed by
# version, backend and the exact flags.
flags_key="$(printf '%s' "$LLAMA_CMAKE_ARGS" | cksum | cut -d' ' -f1)"
