"""The fused scans: gradients equal autograd through an unfused loop; both backends agree."""

from __future__ import annotations

import pytest
import torch
from neuro_core.nn import functional, kernels, set_backend, surrogate

BACKENDS = ["torch", *(["numba"] if kernels.HAVE_NUMBA else [])]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest):
    previous = set_backend(request.param)
    yield request.param
    set_backend(previous)


def unfused(x, beta, c, threshold, v_reset, reset, detach, name, scale, w_rec=None):  # type: ignore[no-untyped-def]
    """The same neuron written as a plain autograd loop (the specification of the fused scan)."""
    v = torch.zeros_like(x[:, 0])
    z = torch.zeros_like(v)
    out = []
    for x_t in x.unbind(1):
        drive = x_t + (0 if c is None else c) + (0 if w_rec is None else z @ w_rec.t())
        p = beta * v + drive
        z = surrogate.spike(p - threshold, name, scale)
        zr = z.detach() if detach else z
        v = p - threshold * zr if reset == "subtract" else p * (1 - zr) + v_reset * zr
        out.append(z)
    return torch.stack(out, 1)


def _inputs(seed: int, batch: int = 3, steps: int = 12, n: int = 5, dtype: torch.dtype = torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(batch, steps, n, generator=g, dtype=dtype) * 0.9).requires_grad_()
    beta = (0.7 + 0.25 * torch.rand(n, generator=g, dtype=dtype)).requires_grad_()
    c = (0.05 * torch.randn(n, generator=g, dtype=dtype)).requires_grad_()
    threshold = 0.8 + 0.4 * torch.rand(n, generator=g, dtype=dtype)
    v_reset = 0.1 * torch.randn(n, generator=g, dtype=dtype)
    return x, beta, c, threshold, v_reset


def _grads(out: torch.Tensor, tensors: list[torch.Tensor], seed: int) -> list[torch.Tensor]:
    weight = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    return list(torch.autograd.grad((out * weight).sum(), tensors))


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("detach", [True, False])
@pytest.mark.parametrize("name", sorted(surrogate.SURROGATES))
def test_spiking_scan_gradients_equal_unfused_loop(backend: str, reset: str, detach: bool, name: str) -> None:
    x, beta, c, threshold, v_reset = _inputs(1)
    scale = surrogate.DEFAULT_SCALE[name]
    fused = functional.spiking(x, beta, c, threshold, v_reset, reset, detach, name, scale)
    loop = unfused(x, beta, c, threshold, v_reset, reset, detach, name, scale)
    assert torch.equal(fused, loop)
    assert 0 < fused.mean() < 1  # the test exercises spikes and resets
    for a, b in zip(_grads(fused, [x, beta, c], 2), _grads(loop, [x, beta, c], 2), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("detach", [True, False])
def test_recurrent_scan_gradients_equal_unfused_loop(reset: str, detach: bool) -> None:
    x, beta, c, threshold, v_reset = _inputs(3)
    w_rec = (0.3 * torch.randn(5, 5, generator=torch.Generator().manual_seed(4), dtype=x.dtype)).requires_grad_()
    fused = functional.spiking(x, beta, c, threshold, v_reset, reset, detach, "fast_sigmoid", 10.0, w_rec)
    loop = unfused(x, beta, c, threshold, v_reset, reset, detach, "fast_sigmoid", 10.0, w_rec)
    assert torch.equal(fused, loop)
    for a, b in zip(_grads(fused, [x, beta, c, w_rec], 5), _grads(loop, [x, beta, c, w_rec], 5), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_leaky_scan_gradcheck(backend: str) -> None:
    x, beta, c, _, _ = _inputs(6, batch=2, steps=6, n=3)
    assert torch.autograd.gradcheck(functional.leaky, (x, beta, c))


def test_leaky_scan_is_the_euler_recursion(backend: str) -> None:
    x, beta, c, _, _ = _inputs(7)
    y = functional.leaky(x, beta, c)
    v = torch.zeros_like(x[:, 0])
    for t in range(x.shape[1]):
        v = beta * v + x[:, t] + c
        torch.testing.assert_close(y[:, t], v)


def test_scan_saves_only_the_potentials() -> None:
    """Memory kept for backward: one (batch, time, n) tensor plus the (n,) parameters."""
    x, beta, c, threshold, v_reset = _inputs(8, batch=4, steps=50, n=16, dtype=torch.float32)
    saved: list[torch.Size] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t.shape)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        functional.spiking(x, beta, c, threshold, v_reset)
    assert sorted(saved, key=len) == [torch.Size([16])] * 3 + [x.shape]


@pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_backends_agree_in_float32(reset: str) -> None:
    x, beta, c, threshold, v_reset = (t.detach().float() for t in _inputs(9, batch=4, steps=40, n=32))
    results = []
    for name in ("torch", "numba"):
        previous = set_backend(name)
        try:
            xx, bb = x.clone().requires_grad_(), beta.clone().requires_grad_()
            z = functional.spiking(xx * 1.5, bb, c, threshold, v_reset, reset)
            results.append((z, *_grads(z, [xx, bb], 10)))
        finally:
            set_backend(previous)
    assert torch.equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1:], results[1][1:], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)  # sums over batch*time in another order


def test_set_backend_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        set_backend("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu() -> None:
    x, beta, c, threshold, v_reset = (t.detach().float() for t in _inputs(11))
    cpu = functional.spiking(x, beta, c, threshold, v_reset)
    gpu = functional.spiking(*(t.cuda() for t in (x, beta, c, threshold, v_reset)))
    assert torch.equal(cpu, gpu.cpu())


def _uses_sparse(y: torch.Tensor) -> bool:
    """Whether the SparseInputLinear node is directly under y's final reshape."""
    fn = y.grad_fn
    names = [type(fn).__name__, *(type(f).__name__ for f, _ in fn.next_functions if f is not None)]
    return any("SparseInputLinear" in name for name in names)


@pytest.mark.parametrize("bias", [False, True])
def test_sparse_input_linear_equals_dense(bias: bool) -> None:
    import neuro_core.nn as snn

    torch.manual_seed(12)
    x = (torch.rand(3, 20, 30, dtype=torch.float64) < 0.05) * torch.rand(3, 20, 30, dtype=torch.float64)
    sparse = snn.Linear(30, 7, bias=bias, sparse_input=True).double()
    dense = snn.Linear(30, 7, bias=bias, sparse_input=False).double()
    dense.load_state_dict(sparse.state_dict())
    y_sparse, y_dense = sparse(x), dense(x)
    torch.testing.assert_close(y_sparse, y_dense)
    assert _uses_sparse(y_sparse) and not _uses_sparse(y_dense)
    g = torch.randn_like(y_dense)
    (y_sparse * g).sum().backward()
    (y_dense * g).sum().backward()
    for a, b in zip(sparse.parameters(), dense.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad)


def test_sparse_path_is_skipped_for_dense_or_differentiated_inputs() -> None:
    import neuro_core.nn as snn

    layer = snn.Linear(100, 4)
    big = (4, 400, 100)  # 160,000 entries: above SPARSE_MIN_ELEMENTS
    assert _uses_sparse(layer((torch.rand(big) < 0.05).float()))
    assert not _uses_sparse(layer((torch.rand(2, 5, 100) < 0.05).float()))  # too small to pay off
    assert not _uses_sparse(layer(torch.rand(big)))  # density 1: dense is faster
    assert not _uses_sparse(layer(torch.zeros(big, requires_grad=True)))  # x needs a gradient


@pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba not installed")
@pytest.mark.filterwarnings("ignore:Sparse:UserWarning")  # torch's "beta" notices when the test densifies
def test_csr_pair_backends_agree() -> None:
    x = (torch.rand(40, 30, generator=torch.Generator().manual_seed(13)) < 0.1) * torch.rand(40, 30)
    pairs = []
    for name in ("torch", "numba"):
        previous = set_backend(name)
        try:
            pairs.append(kernels.csr_pair(x, 1.0))
        finally:
            set_backend(previous)
    for a, b in zip(*pairs, strict=True):
        assert torch.equal(a, b)
    crow, cols, values, ccol, rows_t, values_t = pairs[0]
    assert torch.equal(torch.sparse_csr_tensor(crow, cols, values, (40, 30)).to_dense(), x)
    assert torch.equal(torch.sparse_csr_tensor(ccol, rows_t, values_t, (30, 40)).to_dense(), x.t())
    assert kernels.csr_pair(x, 0.01) is None  # denser than allowed
