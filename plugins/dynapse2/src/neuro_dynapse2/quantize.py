"""DYNAP-SE2 weight and bias quantization.

Weights: every core holds four base weight currents ``Iw_0..Iw_3``; each synapse (CAM entry)
holds a 4-bit mask and its weight current is ``sum_k mask_k Iw_k``; the sign comes from the
synapse type (AMPA/NMDA excitatory, GABA/SHUNT inhibitory). Per core, both quantizers find the
four bases and the masks that best reconstruct the magnitudes of the weights into that core's
neurons, minimising the squared error ``sum (|w| - w_hat)^2`` (what the synaptic currents add up to).

- ``"autoencoder"``: the unsupervised method of Cakal et al. 2024 (arXiv:2303.12167; Rockpool
  ``quantization/autoencoder``): a linear encoder maps the weight vector to a 4-value code (the
  base currents) and a binary decoder (``step(sigmoid(W_dec))`` with a straight-through
  gradient) maps the code back; the decoder's columns are the masks. Trained with Adam on the
  squared error (the paper's loss); a penalty keeps the code non-negative. It starts at the uniform binary
  code (bases ``max * (1, 2, 4, 8) / 15``, nearest masks) and keeps the best iterate, because the
  straight-through mask updates are noisy. In our runs it rarely improves much on that start
  within a few hundred steps (Rockpool runs up to 1e7 steps); see BENCHMARKS.md.
- ``"exact"``: alternating optimisation: given the bases, the exact best mask of every synapse
  (search over all 16 masks); given the masks, the bases by least squares (clipped at zero);
  from several starts (binary code, quantiles), keeping the best.

Both keep every base within the bias generator's range (``max_base``, the largest settable
current): larger weights are then reached only as sums of bases, up to four times that current,
and any excess shows up as reconstruction error rather than as an unsettable bias.

Biases: every bias current is one (coarse 0..5, fine 0..255) pair per core (``target.coarse_fine``).

The reconstruction error reported (and compared with ``tolerance``) is the normalised RMS error
``||w - w_hat|| / ||w||`` over the core's non-zero synapses. A core whose weights take more
distinct levels, of comparable weight in that norm, than 15 sums of 4 base currents can follow
(e.g. levels spread over decades with as many small as large contributions) exceeds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from neuro_core import IF, Graph, GraphError, Linear, QuantizationError, Target

from . import target as hw
from .mapper import assign_cores, core_features
from .model import (
    METADATA_KEY,
    NA,
    cuba_node,
    linear_of,
    population_currents,
    structure_of,
    weight_scale,
)

METHODS = ("exact", "autoencoder")
DEFAULT_TOLERANCE = 0.15
_MASKS = ((np.arange(16)[:, None] >> np.arange(4)[None, :]) & 1).astype(np.float64)  # (16, 4) bit k of mask m


@dataclass(frozen=True)
class WeightCode:
    """Quantized weights of one core.

    Attributes:
        bases: (4,) base weight currents Iw_0..Iw_3 (same unit as the input magnitudes).
        masks: (M,) int mask 0..15 per synapse.
        error: normalised RMS reconstruction error ``||w - w_hat|| / ||w||``.
        method: which quantizer produced it.
    """

    bases: np.ndarray
    masks: np.ndarray
    error: float
    method: str

    def reconstruct(self) -> np.ndarray:
        """The reconstructed magnitudes (M,)."""
        return _MASKS[self.masks] @ self.bases


def nrmse(values: np.ndarray, approx: np.ndarray) -> float:
    """``||values - approx|| / ||values||``; 0 for an empty or all-zero vector."""
    norm = float(np.linalg.norm(values))
    return float(np.linalg.norm(values - approx)) / norm if norm > 0 else 0.0


def best_masks(values: np.ndarray, bases: np.ndarray) -> np.ndarray:
    """For every value, the mask (0..15) whose sum of bases is nearest (exact search over 16)."""
    levels = _MASKS @ bases  # (16,)
    return np.argmin(np.abs(values[:, None] - levels[None, :]), axis=1)


def quantize_exact(values: np.ndarray, iters: int = 30, max_base: float = np.inf) -> WeightCode:
    """Alternating exact-mask / least-squares-bases quantization of non-negative ``values`` (M,).

    ``max_base`` bounds every base (same unit as ``values``); the bases step is then a projected
    least-squares fit.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or values.max() == 0:
        return WeightCode(np.zeros(4), np.zeros(values.size, dtype=np.int64), 0.0, "exact")
    top = min(values.max(), 4 * max_base)
    starts = [top * np.array([1, 2, 4, 8]) / 15]
    q = np.quantile(values, [0.1, 0.3, 0.6, 0.95])
    starts.append(np.array([q[0], q[1] - q[0], q[2] - q[1], q[3] - q[2]]).clip(min=top * 1e-3))
    starts.append(np.geomspace(max(values.min(), top * 1e-3), top, 4))
    best: WeightCode | None = None
    for bases in starts:
        bases = np.sort(np.abs(bases).clip(max=max_base))
        for _ in range(iters):
            masks = best_masks(values, bases)
            solution, *_ = np.linalg.lstsq(_MASKS[masks], values, rcond=None)
            new = np.clip(solution, 0.0, max_base)
            if np.allclose(new, bases, rtol=1e-9, atol=0):
                break
            bases = new
        masks = best_masks(values, bases)
        code = WeightCode(bases, masks, nrmse(values, _MASKS[masks] @ bases), "exact")
        if best is None or code.error < best.error:
            best = code
    assert best is not None
    return best


class _StepSTE(torch.autograd.Function):
    """Binary step ``p > 0.5`` with a piecewise-linear straight-through gradient (Rockpool ``step_pwl_ae``)."""

    @staticmethod
    def forward(ctx: Any, p: torch.Tensor) -> torch.Tensor:
        return (p > 0.5).to(p.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad


def quantize_autoencoder(
    values: np.ndarray,
    steps: int = 300,
    lr: float = 0.01,
    seed: int = 0,
    lr_code: float = 0.002,
    max_base: float = np.inf,
) -> WeightCode:
    """The autoencoder quantizer of Cakal et al. 2024 on non-negative ``values`` (M,) (seeded).

    The learnt code is clipped to ``max_base`` (same unit as ``values``) at the end.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or values.max() == 0:
        return WeightCode(np.zeros(4), np.zeros(values.size, dtype=np.int64), 0.0, "autoencoder")
    scale = values.max()
    gen = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(values / scale, dtype=torch.float64)
    m = x.numel()
    init_bases = torch.tensor([1.0, 2.0, 4.0, 8.0], dtype=torch.float64) / 15
    # encoder: code = x @ w_en / sum(x) (a linear map; the fixed normalisation keeps Adam's steps
    # scale-free); it starts at the binary code, bases (1, 2, 4, 8) / 15 of the maximum
    norm = x.sum()
    w_en = init_bases[None, :].repeat(m, 1) + 1e-3 * torch.randn(m, 4, generator=gen, dtype=torch.float64)
    w_en.requires_grad_(True)
    init_masks = torch.as_tensor(_MASKS[best_masks(values / scale, init_bases.numpy())])  # (m, 4)
    w_dec = 2.0 * (init_masks.T - 0.5) + 0.1 * torch.randn(4, m, generator=gen, dtype=torch.float64)
    w_dec.requires_grad_(True)
    # the code moves slowly (it sets every reconstruction), the mask logits fast
    optimiser = torch.optim.Adam([{"params": [w_en], "lr": lr_code}, {"params": [w_dec], "lr": lr}])
    best_loss, best_code, best_bits = np.inf, None, None
    for _ in range(steps + 1):
        optimiser.zero_grad()
        code = x @ w_en / norm  # (4,) the base currents
        mask = _StepSTE.apply(torch.sigmoid(w_dec))  # (4, m) binary forward, straight-through backward
        recon = code @ mask
        mse = ((recon - x) ** 2).mean()
        # the straight-through mask updates are noisy: keep the best iterate seen (Rockpool instead
        # stops once the loss stalls)
        if float(mse.detach()) < best_loss and bool((code.detach() >= 0).all()):
            best_loss, best_code, best_bits = float(mse.detach()), code.detach().clone(), mask.detach().clone()
        loss = mse + 1e3 * torch.clamp(code, max=0).pow(2).sum()
        loss.backward()
        optimiser.step()
    assert best_code is not None and best_bits is not None
    bases = np.minimum(best_code.numpy() * scale, max_base)
    bits = best_bits.numpy().astype(np.int64)  # (4, m)
    masks = (bits * (1 << np.arange(4))[:, None]).sum(axis=0)
    return WeightCode(bases, masks, nrmse(values, _MASKS[masks] @ bases), "autoencoder")


def quantize_weights(values: np.ndarray, method: str = "exact", seed: int = 0, max_base: float = np.inf) -> WeightCode:
    """Quantize non-negative weight magnitudes of one core with ``method`` (``"exact"``/``"autoencoder"``),
    every base at most ``max_base`` (same unit as ``values``)."""
    if method == "exact":
        return quantize_exact(values, max_base=max_base)
    if method == "autoencoder":
        return quantize_autoencoder(values, seed=seed, max_base=max_base)
    raise ValueError(f"unknown weight quantizer {method!r}; choose one of {METHODS}")


def _bias_pair(current: float, what: str) -> tuple[int, int, float]:
    try:
        coarse, fine = hw.coarse_fine(current)
    except ValueError as exc:
        raise QuantizationError(f"{what}: {exc}") from exc
    return coarse, fine, hw.bias_current(coarse, fine)


def quantize_graph(target: Target, graph: Graph, options: Mapping[str, Any]) -> Graph:
    """``neuro_quantize`` for dynapse2: assign cores, share biases per core, quantize weights per core.

    Options: ``method`` ("exact" default, or "autoencoder"), ``tolerance`` (largest normalised RMS
    weight error per core, default 0.15), ``seed`` (autoencoder
    init), ``per_channel`` (accepted; the chip's weights are always per core).

    Returns:
        A new graph: Linear weights dequantized (A) with ``int_params["weight_mask"]``; every
        population a CubaLIF whose parameters are its core's shared biases, with
        ``int_params["core"]``; ``metadata["dynapse2"]`` holds per-core biases as
        (coarse, fine), base weights and per-core quantization errors.

    Raises:
        QuantizationError: a bias current outside the bias generator's range, or a core whose
            weights need more distinct levels than 4 base currents can approximate within
            ``tolerance`` (naming the core, the error and the tolerance).
        GraphError: the graph is not expressible on the chip.
    """
    allowed = {"method", "tolerance", "seed", "per_channel"}
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for dynapse2 quantize; allowed: {sorted(allowed)}")
    method = str(options.get("method", "exact"))
    if method not in METHODS:
        raise ValueError(f"unknown weight quantizer {method!r}; choose one of {METHODS}")
    tolerance = float(options.get("tolerance", DEFAULT_TOLERANCE))
    seed = int(options.get("seed", 0))
    for name, node in graph.nodes.items():
        if isinstance(node, IF) and node.reset not in target.reset_modes:
            raise GraphError(
                f"node {name!r} has reset {node.reset!r}: DYNAP-SE2 neurons reset to a reset level "
                f"(reset modes {sorted(target.reset_modes)})"
            )
    structure = structure_of(graph)
    pops = list(structure.populations)
    currents = {pop: population_currents(graph, pop) for pop, _ in pops}
    weights = {
        p.name: linear_of(graph, p.name).weight * weight_scale(graph, p.target, currents[p.target])[:, None]
        for p in structure.projections
    }
    offsets = np.cumsum([0] + [n for _, n in pops])
    start = {pop: int(offsets[i]) for i, (pop, _) in enumerate(pops)}
    all_currents = {k: np.concatenate([currents[p][k] for p, _ in pops]) for k in currents[pops[0][0]]}
    population = np.concatenate([np.full(n, i) for i, (_, n) in enumerate(pops)])
    cores = assign_cores(core_features(all_currents), target.neurons_per_core, target.cores, population)
    n_cores = int(cores.max()) + 1

    # -- biases: one (coarse, fine) per core and bias; the neurons of a core share it ----------------
    shared = {k: np.empty_like(v) for k, v in all_currents.items()}
    bias_table: dict[str, list[list[int]]] = {}
    for core in range(n_cores):
        members = cores == core
        for key, values in all_currents.items():
            mean = np.exp(np.mean(np.log(np.maximum(values[members], 1e-30)), axis=0))  # geometric mean
            flat = np.atleast_1d(mean)
            pairs = [_bias_pair(float(v), f"core {core} bias {key}[{i}]") for i, v in enumerate(flat)]
            shared[key][members] = np.array([p[2] for p in pairs]).reshape(np.shape(mean))
            bias_table.setdefault(key, []).append([int(pairs[i][j]) for i in range(len(pairs)) for j in (0, 1)])

    # -- weights: 4 base currents per core + a mask per synapse --------------------------------------
    new_nodes: dict[str, Any] = dict(graph.nodes)
    masks = {p.name: np.zeros(weights[p.name].shape, dtype=np.int64) for p in structure.projections}
    dequant = {p.name: np.zeros(weights[p.name].shape) for p in structure.projections}
    base_weights = np.zeros((n_cores, 4))
    report = []
    for core in range(n_cores):
        entries = []  # (projection, rows, cols) of the non-zero synapses into this core
        for p in structure.projections:
            rows_in_core = np.flatnonzero(cores[start[p.target] : start[p.target] + dict(pops)[p.target]] == core)
            sub = weights[p.name][rows_in_core]
            r, c = np.nonzero(sub)
            entries.append((p.name, rows_in_core[r], c))
        values = np.concatenate([np.abs(weights[name][r, c]) for name, r, c in entries]) if entries else np.zeros(0)
        code = quantize_weights(values / NA, method, seed, max_base=hw.COARSE_MAX_CURRENT[-1] / NA)
        bases = []
        for k in range(4):  # the bases are bias currents too: round them to (coarse, fine)
            coarse, fine, current = _bias_pair(float(code.bases[k]) * NA, f"core {core} base weight Iw_{k}")
            bias_table.setdefault(f"iw_{k}", []).append([coarse, fine])
            bases.append(current)
        base_weights[core] = bases
        approx = _MASKS[code.masks] @ base_weights[core]
        error = nrmse(values, approx)
        distinct = int(np.unique(np.round(values / max(values.max(initial=0), 1e-300), 6)).size) if values.size else 0
        report.append(
            {"core": core, "method": method, "synapses": int(values.size), "distinct_levels": distinct, "error": error}
        )
        if error > tolerance:
            raise QuantizationError(
                f"core {core}: its {values.size} synapses have {distinct} distinct weight levels that 4 base "
                f"currents with 4-bit masks approximate only to normalised RMS error {error:.3f} ({method} quantizer), "
                f"above the tolerance {tolerance}; reduce the weight spread or raise `tolerance`"
            )
        offset = 0
        for name, r, c in entries:
            k = r.size
            masks[name][r, c] = code.masks[offset : offset + k]
            sign = np.sign(weights[name][r, c])
            dequant[name][r, c] = sign * approx[offset : offset + k]
            offset += k
    for p in structure.projections:
        new_nodes[p.name] = Linear(dequant[p.name], int_params={"weight_mask": masks[p.name]})
    meta_pops = {}
    for pop, n in pops:
        cur = {k: v[start[pop] : start[pop] + n] for k, v in shared.items()}
        meta_pops[pop] = {k: v.tolist() for k, v in cur.items()}
        new_nodes[pop] = cuba_node(cur, graph.dt, {"core": cores[start[pop] : start[pop] + n]})
    meta = dict(graph.metadata)
    meta[METADATA_KEY] = {
        "populations": meta_pops,
        "synapse_types": {p.name: list(p.types) for p in structure.projections},
        "bias_coarse_fine": bias_table,
        "base_weights_a": base_weights.tolist(),
        "quantization": report,
        "tolerance": tolerance,
    }
    return Graph(new_nodes, graph.edges, graph.dt, meta)
