"""Typed stubs of the extension module vgp_native._core (op kernels and the executor).

Every array argument must already be C-contiguous float32 or float64 (one
overload per dtype, no conversion); all float arrays of one call share the
dtype. Outputs are passed in and written in place; vgp_native.ops wraps these
functions with conversion, checks and output allocation.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]
MaskArray = npt.NDArray[np.uint8]
HistArray = npt.NDArray[np.int64]

__version__: str

def openmp_enabled() -> bool: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...
def get_parallel_min_ns() -> float: ...
def set_parallel_min_ns(ns: float) -> None: ...
def parallel_regions() -> int: ...

# gemm
def gemm(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    trans_a: bool = False,
    trans_b: bool = False,
    accumulate: bool = False,
    bias: FloatArray | None = None,
    act: int = 0,
    post: FloatArray | None = None,
) -> None: ...
def gemm_kernel_name(like: FloatArray) -> str: ...
def gemm_tile_model(
    like: FloatArray, kernel: str, fma_per_cycle: int, fma_latency: int = 4
) -> tuple[int, int]: ...
def gemm_blocks_model(
    caches: dict[str, dict[str, int]], mr: int, nr: int, elem_bytes: int, fma_per_cycle: int
) -> dict[str, int]: ...
def cpu_info() -> dict[str, Any]: ...
def gemm_profile(enable: bool) -> None: ...
def gemm_profile_read() -> dict[str, Any]: ...

# dense
def dense_forward(
    x: FloatArray,
    w: FloatArray,
    b: FloatArray | None,
    z: FloatArray,
    y: FloatArray | None,
    act: int,
) -> None: ...
def dense_backward(
    x: FloatArray,
    w: FloatArray,
    dz: FloatArray,
    dx: FloatArray | None,
    dw: FloatArray,
    db: FloatArray | None,
) -> None: ...
def column_sums(dz: FloatArray, db: FloatArray) -> None: ...

# activation
def activation_forward(x: FloatArray, y: FloatArray, act: int) -> None: ...
def activation_backward(
    x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray, act: int
) -> None: ...

# batch normalization
def batchnorm_forward_train(
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    y: FloatArray,
    save_mean: FloatArray,
    save_invstd: FloatArray,
    moving_mean: FloatArray,
    moving_variance: FloatArray,
    eps: float,
    momentum: float,
) -> None: ...
def batchnorm_forward_infer(
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    moving_mean: FloatArray,
    moving_variance: FloatArray,
    y: FloatArray,
    eps: float,
) -> None: ...
def batchnorm_backward(
    x: FloatArray,
    dy: FloatArray,
    gamma: FloatArray,
    save_mean: FloatArray,
    save_invstd: FloatArray,
    dx: FloatArray | None,
    dgamma: FloatArray,
    dbeta: FloatArray,
) -> None: ...
def batchnorm_backward_infer(
    dy: FloatArray, gamma: FloatArray, moving_variance: FloatArray, dx: FloatArray, eps: float
) -> None: ...

# residual
def residual_add_forward(x: FloatArray, fx: FloatArray, y: FloatArray) -> None: ...
def residual_add_backward(d_skip: FloatArray, d_inner: FloatArray, dx: FloatArray) -> None: ...

# dropout
def dropout_forward(
    x: FloatArray, y: FloatArray, mask: MaskArray, rate: float, seed: int
) -> None: ...
def dropout_backward(dy: FloatArray, mask: MaskArray, dx: FloatArray, rate: float) -> None: ...
def counter_uniform(seed: int, counter: int) -> float: ...

# data checks: (count of NaN and +-Inf, smallest finite value, largest finite value)
def scan_values(x: FloatArray) -> tuple[int, float, float]: ...

# -- row orders (numpy's Generator.permutation, natively) -----------------------------------------
def permutations(bitgen: Any, n: int, k: int) -> npt.NDArray[np.int64]: ...

# losses: *_forward returns the sum over rows of the per-row loss; *_backward
# writes the gradient of scale * that sum into grad.
def sigmoid_bce_forward(logits: FloatArray, target: FloatArray) -> float: ...
def sigmoid_bce_backward(
    logits: FloatArray, target: FloatArray, grad: FloatArray, scale: float
) -> None: ...
def sigmoid_bce_forward_backward(
    logits: FloatArray, target: FloatArray, grad: FloatArray, scale: float
) -> float: ...
def bce_forward(prob: FloatArray, target: FloatArray) -> float: ...
def bce_backward(prob: FloatArray, target: FloatArray, grad: FloatArray, scale: float) -> None: ...
def softmax_cce_forward(logits: FloatArray, target: FloatArray) -> float: ...
def softmax_cce_backward(
    logits: FloatArray, target: FloatArray, grad: FloatArray, scale: float
) -> None: ...
def softmax_sparse_cce_forward(logits: FloatArray, labels: FloatArray) -> float: ...
def softmax_sparse_cce_backward(
    logits: FloatArray, labels: FloatArray, grad: FloatArray, scale: float
) -> None: ...
def cce_forward(prob: FloatArray, target: FloatArray) -> float: ...
def cce_backward(prob: FloatArray, target: FloatArray, grad: FloatArray, scale: float) -> None: ...
def sparse_cce_forward(prob: FloatArray, labels: FloatArray) -> float: ...
def sparse_cce_backward(
    prob: FloatArray, labels: FloatArray, grad: FloatArray, scale: float
) -> None: ...
def mse_forward(y: FloatArray, target: FloatArray) -> float: ...
def mse_backward(y: FloatArray, target: FloatArray, grad: FloatArray, scale: float) -> None: ...

# metrics (sums over rows)
def binary_accuracy_sum(prob: FloatArray, target: FloatArray) -> float: ...
def categorical_accuracy_sum(prob: FloatArray, target: FloatArray) -> float: ...
def sparse_categorical_accuracy_sum(prob: FloatArray, labels: FloatArray) -> float: ...

# optimizers: update w and the state in place, return the squared step norm
def sgd_update(
    w: FloatArray,
    g: FloatArray,
    velocity: FloatArray | None,
    lr: float,
    momentum: float,
    nesterov: bool,
) -> float: ...
def adam_update(
    w: FloatArray,
    g: FloatArray,
    m: FloatArray,
    v: FloatArray,
    lr: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    step: int,
) -> float: ...
def rmsprop_update(
    w: FloatArray,
    g: FloatArray,
    v: FloatArray,
    mom: FloatArray | None,
    avg: FloatArray | None,
    lr: float,
    rho: float,
    momentum: float,
    epsilon: float,
    centered: bool,
) -> float: ...
def clip_by_norm(g: FloatArray, clipnorm: float) -> None: ...
def clip_by_value(g: FloatArray, clipvalue: float) -> None: ...

# gradient-flow statistics
def buffer_stats(x: FloatArray) -> dict[str, Any]: ...
def buffer_norm(x: FloatArray) -> dict[str, Any]: ...
def activation_stats(
    y: FloatArray, act: int, hist: HistArray | None = None, lo: float = 0.0, hi: float = 1.0
) -> dict[str, Any]: ...

# integer codes, name -> code, from the C++ enums (metric code 0 means no metric)
ACTIVATION_CODES: dict[str, int]
LOSS_CODES: dict[str, int]
METRIC_CODES: dict[str, int]
OPTIMIZER_CODES: dict[str, int]
LAYER_KINDS: tuple[str, ...]

# the native executor (cpp/network/): Network32 for float32 models, Network64 for float64
STAT_FIELDS: tuple[str, ...]
HIST_BINS: int

class _Network:
    def __init__(
        self, specs: list[dict[str, Any]], in_features: int, stat_rows: int = 0
    ) -> None: ...
    @property
    def in_features(self) -> int: ...
    @property
    def out_features(self) -> int: ...
    @property
    def stat_rows(self) -> int: ...
    @property
    def optimizer_steps(self) -> int: ...
    @property
    def loss_fused(self) -> bool: ...
    @property
    def layer_widths(self) -> list[int]: ...
    @property
    def narrow_pass(self) -> bool: ...
    def param_info(self) -> list[tuple[str, tuple[int, ...], bool, int]]: ...
    def params(self) -> list[FloatArray]: ...
    def grads(self) -> list[FloatArray | None]: ...
    def set_loss(self, loss: int, metric: int) -> None: ...
    def set_optimizer(self, config: dict[str, Any]) -> None: ...
    def set_learning_rate(self, learning_rate: float) -> None: ...
    def train_epoch(
        self,
        x: FloatArray,
        y: FloatArray,
        perm: npt.NDArray[np.int64] | None,
        batch_size: int,
        seeds: npt.NDArray[np.uint64] | None,
        record: int = 0,
        halt_on_nonfinite: bool = False,
    ) -> tuple[float, float, int, bool]: ...
    def train_epochs(
        self,
        x: FloatArray,
        y: FloatArray,
        perms: npt.NDArray[np.int64] | None,
        batch_size: int,
        seeds: npt.NDArray[np.uint64] | None,
        out: npt.NDArray[np.float64],
        bitgen: Any = None,
    ) -> int: ...
    def train_batch(
        self,
        x: FloatArray,
        y: FloatArray,
        indices: npt.NDArray[np.int64] | None,
        seed: int = 0,
        record: int = 0,
        halt_on_nonfinite: bool = False,
        batch_index: int = 0,
    ) -> tuple[float, float, int, bool]: ...
    def evaluate(
        self, x: FloatArray, y: FloatArray, batch_size: int, mode: str = "infer"
    ) -> tuple[float, float, int]: ...
    def predict(self, x: FloatArray, batch_size: int = 32, mode: str = "infer") -> FloatArray: ...
    def compute_gradients(
        self, x: FloatArray, y: FloatArray, mode: str = "probe", record: bool = False
    ) -> tuple[float, float, int]: ...
    def input_gradient(self, x: FloatArray, dy: FloatArray, mode: str = "infer") -> FloatArray: ...
    def layer_outputs(self, x: FloatArray, mode: str = "infer") -> list[FloatArray]: ...
    def stats(
        self,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
    def take_stats(
        self,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
    def clear_stats(self) -> None: ...

class Network32(_Network): ...
class Network64(_Network): ...
