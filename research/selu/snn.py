"""Self-normalizing networks (Klambauer et al. 2017, arXiv 1706.02515).

Pure functions: the SELU activation, the moment map g of a SELU layer in
closed form (paper eq. (4), (5)), the Newton solver that derives lambda and
alpha from a desired fixed point, the Jacobian of g and its spectral norm
(Theorem 1's contraction), alpha dropout (the paper's "New Dropout
Technique"), a probe that pushes a batch through a stack of random dense
layers to record per-layer activation statistics, and the deep equal-width
network of the paper's Figure 1.

Notation follows the paper: a unit's inputs have mean ``mu`` and variance
``nu``; the incoming weights have sum ``omega = sum_i w_i`` and squared sum
``tau = sum_i w_i^2``, so by the central limit theorem the pre-activation is
z ~ N(mu * omega, nu * tau). Normalized weights are omega = 0, tau = 1.

Everything here is dtype-agnostic; the constants are reproduced to 1e-12 only
under ``jax.enable_x64``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.scipy.special import erfc

from common import nn
from common.models import batchnorm, batchnorm_init, dense_init, param_dtype
from common.nn import ACTIVATIONS
from common.nn import dropout as nn_dropout


class SeluParams(NamedTuple):
    """The two constants of a SELU: ``selu(x) = lam * (x if x > 0 else alpha (e^x - 1))``."""

    lam: jax.Array | float
    alpha: jax.Array | float


def constants(lam=None, alpha=None) -> SeluParams:
    """(lam, alpha), each defaulting to the constants the code uses: common.nn's, read at call time
    (the paper's for the fixed point (0, 1) with (omega, tau) = (0, 1); solve_selu_params derives them)."""
    return SeluParams(nn.SELU_LAMBDA if lam is None else lam, nn.SELU_ALPHA if alpha is None else alpha)


def computed_constants(activation) -> SeluParams:
    """The (lambda, alpha) a SELU-like activation computes (float64 under jax.enable_x64): f(1) = lambda,
    f(-40) = -lambda alpha (e^-40 is below float64's resolution of 1)."""
    lam = float(activation(jnp.asarray(1.0)))
    return SeluParams(lam, -float(activation(jnp.asarray(-40.0))) / lam)


class Moments(NamedTuple):
    """Mean and variance of a layer's activations (the paper's mu and nu)."""

    mean: jax.Array
    var: jax.Array


def selu(x: jax.Array, lam: float | None = None, alpha: float | None = None) -> jax.Array:
    """Scaled exponential linear unit, with any (lam, alpha).

    ``common.nn.selu`` is this function at the paper's constants; the
    parameters are here for the other fixed points (e.g. (-0.1, 2)).

    ``expm1`` is taken of ``min(x, 0)`` so the unused branch cannot overflow
    and poison the gradient with ``inf * 0``.
    """
    lam, alpha = constants(lam, alpha)
    return lam * jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0.0)))


def moment_map(
    mean: jax.Array | float,
    var: jax.Array | float,
    omega: jax.Array | float = 0.0,
    tau: jax.Array | float = 1.0,
    lam: jax.Array | float | None = None,
    alpha: jax.Array | float | None = None,
) -> Moments:
    """The map g: (mu, nu) -> (mu~, nu~) of one SELU layer, paper eq. (4), (5).

    With z ~ N(m, s), m = mu * omega, s = nu * tau, the output mean is
      mu~ = lam/2 [ m (2 - erfc(m/sqrt(2s))) + alpha e^{m + s/2} erfc((m+s)/sqrt(2s))
                    - alpha erfc(m/sqrt(2s)) + sqrt(2/pi) sqrt(s) e^{-m^2/(2s)} ]
    and the output second moment is
      xi~ = lam^2/2 [ (m^2 + s)(2 - erfc(m/sqrt(2s))) + alpha^2 ( -2 e^{m+s/2} erfc((m+s)/sqrt(2s))
                      + e^{2(m+s)} erfc((m+2s)/sqrt(2s)) + erfc(m/sqrt(2s)) )
                      + sqrt(2/pi) m sqrt(s) e^{-m^2/(2s)} ],
    so nu~ = xi~ - mu~^2 (eq. (5)). Exact for a Gaussian pre-activation.
    """
    lam, alpha = constants(lam, alpha)
    m = mean * omega
    s = var * tau
    root = jnp.sqrt(2.0 * s)
    erfc_0 = erfc(m / root)
    exp_erfc_1 = jnp.exp(m + s / 2.0) * erfc((m + s) / root)
    exp_erfc_2 = jnp.exp(2.0 * (m + s)) * erfc((m + 2.0 * s) / root)
    gauss = jnp.sqrt(2.0 / jnp.pi) * jnp.sqrt(s) * jnp.exp(-(m**2) / (2.0 * s))

    new_mean = 0.5 * lam * (m * (2.0 - erfc_0) + alpha * exp_erfc_1 - alpha * erfc_0 + gauss)
    second_moment = (
        0.5
        * lam**2
        * (
            (m**2 + s) * (2.0 - erfc_0)
            + alpha**2 * (-2.0 * exp_erfc_1 + exp_erfc_2 + erfc_0)
            + m * gauss
        )
    )
    return Moments(new_mean, second_moment - new_mean**2)


def linear_moment_map(
    mean: jax.Array | float,
    var: jax.Array | float,
    omega: jax.Array | float = 0.0,
    tau: jax.Array | float = 1.0,
) -> Moments:
    """The moment map of a linear layer (identity activation): z ~ N(mu omega, nu tau) is the output.

    The negative control of the contraction claims: with normalized weights
    its Jacobian is diag(omega, tau) = diag(0, 1), spectral norm 1, so no
    variance other than the input's is attracting.
    """
    return Moments(jnp.asarray(mean * omega), jnp.asarray(var * tau))


def moment_map_jacobian(
    mean: jax.Array | float,
    var: jax.Array | float,
    omega: jax.Array | float = 0.0,
    tau: jax.Array | float = 1.0,
    lam: jax.Array | float | None = None,
    alpha: jax.Array | float | None = None,
    linear: bool = False,
) -> jax.Array:
    """The 2x2 Jacobian d(mu~, nu~) / d(mu, nu) of the moment map (Theorem 1 bounds its norm).

    ``linear``: of :func:`linear_moment_map` instead (the identity activation).
    """

    def g(moments_2):
        if linear:
            return jnp.stack(linear_moment_map(moments_2[0], moments_2[1], omega, tau))
        return jnp.stack(moment_map(moments_2[0], moments_2[1], omega, tau, lam, alpha))

    point = jnp.stack(jnp.broadcast_arrays(jnp.asarray(mean), jnp.asarray(var)))
    return jax.jacfwd(g)(point)


def spectral_norm(matrix: jax.Array) -> jax.Array:
    """Largest singular value: below 1 means g is a contraction (Theorem 1)."""
    return jnp.linalg.svd(matrix, compute_uv=False)[..., 0]


NEWTON_START = SeluParams(1.05, 1.67)  # near the paper's constants


class FixedPointSolution(NamedTuple):
    """Result of :func:`solve_selu_params`: the constants and the final residual."""

    params: SeluParams
    residual: jax.Array


def solve_selu_params(
    mean: float = 0.0,
    var: float = 1.0,
    omega: float = 0.0,
    tau: float = 1.0,
    init: SeluParams = NEWTON_START,
    num_steps: int = 30,
) -> FixedPointSolution:
    """Solve g(mean, var; omega, tau, lam, alpha) = (mean, var) for (lam, alpha).

    Newton's method on the residual r(lam, alpha) = g(...) - (mean, var) with
    the Jacobian from ``jax.jacfwd``. A fixed number of steps keeps it one
    compiled loop; Newton converges quadratically from the paper's
    neighbourhood, so 30 steps leave the residual at rounding level.

    With omega = 0, tau = 1 this is the paper's derivation (z ~ N(0, nu)).
    The reference notebook ``getSELUparameters.ipynb`` instead takes
    z ~ N(mean, var), which is omega = 1, tau = 1 here.
    """
    target = jnp.stack([jnp.asarray(mean), jnp.asarray(var)])

    def residual(lam_alpha):
        new = moment_map(mean, var, omega, tau, lam_alpha[0], lam_alpha[1])
        return jnp.stack(new) - target

    def newton_step(_, lam_alpha):
        step = jnp.linalg.solve(jax.jacfwd(residual)(lam_alpha), residual(lam_alpha))
        return lam_alpha - step

    start = jnp.stack([jnp.asarray(init.lam), jnp.asarray(init.alpha)]).astype(target.dtype)
    lam_alpha = jax.lax.fori_loop(0, num_steps, newton_step, start)
    return FixedPointSolution(
        SeluParams(lam_alpha[0], lam_alpha[1]), jnp.max(jnp.abs(residual(lam_alpha)))
    )


class AlphaDropoutAffine(NamedTuple):
    """The affine correction y = a * x_dropped + b of alpha dropout."""

    a: jax.Array
    b: jax.Array
    dropped_value: jax.Array


def alpha_dropout_affine(
    rate: float,
    params: SeluParams | None = None,
    mean: float = 0.0,
    var: float = 1.0,
) -> AlphaDropoutAffine:
    """a and b that restore (mean, var) after dropping to alpha' ("New Dropout Technique").

    Dropped units are set to alpha' = -lam * alpha, SELU's limit for
    x -> -inf. With keep probability q = 1 - rate,
      a = sqrt(var / (q ((1 - q)(alpha' - mean)^2 + var))),
      b = mean - a (q mean + (1 - q) alpha').
    (The paper prints the (0, 1) case, a = (q + alpha'^2 q (1-q))^{-1/2},
    b = -a (1 - q) alpha'; this is the reference code's general form.)
    """
    params = params or constants()
    keep = 1.0 - rate
    dropped = -jnp.asarray(params.lam) * jnp.asarray(params.alpha)
    a = jnp.sqrt(var / (keep * ((1.0 - keep) * (dropped - mean) ** 2 + var)))
    b = mean - a * (keep * mean + (1.0 - keep) * dropped)
    return AlphaDropoutAffine(a, b, dropped)


def alpha_dropout_moments(
    rate: float,
    affine: AlphaDropoutAffine,
    mean: float = 0.0,
    var: float = 1.0,
) -> Moments:
    """Exact mean and variance of a x_dropped + b for an input with moments (mean, var).

    x_dropped is x with probability q = 1 - rate and alpha' otherwise (the
    mask independent of x), so
      E = a (q mean + (1 - q) alpha') + b,
      Var = a^2 (q var + q (1 - q)(mean - alpha')^2)
    (law of total variance). With the affine of :func:`alpha_dropout_affine`
    this is (mean, var) again; with a = 1, b = 0 it shows what the correction fixes.
    """
    keep = 1.0 - rate
    dropped = affine.dropped_value
    new_mean = affine.a * (keep * mean + (1.0 - keep) * dropped) + affine.b
    new_var = affine.a**2 * (keep * var + keep * (1.0 - keep) * (mean - dropped) ** 2)
    return Moments(jnp.asarray(new_mean), jnp.asarray(new_var))


def alpha_dropout(
    key: jax.Array,
    x: jax.Array,
    rate: float,
    params: SeluParams | None = None,
    mean: float = 0.0,
    var: float = 1.0,
) -> jax.Array:
    """Alpha dropout: drop to alpha' with probability ``rate``, then a x + b.

    Keeps an input with moments (mean, var) at (mean, var), unlike inverted
    dropout, which keeps the mean but inflates the variance by 1 / q.
    """
    if rate == 0.0:
        return x
    return affine_dropout(key, x, rate, alpha_dropout_affine(rate, params, mean, var))


def affine_dropout(key: jax.Array, x: jax.Array, rate: float, affine: AlphaDropoutAffine) -> jax.Array:
    """Drop to ``affine.dropped_value`` with probability ``rate``, then ``a x + b``.

    Alpha dropout is this with :func:`alpha_dropout_affine`; with a = 1, b = 0
    it is the uncorrected variant (dropping to alpha' only), a negative control.
    """
    keep_mask = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    dropped = jnp.where(keep_mask, x, affine.dropped_value.astype(x.dtype))
    return (affine.a * dropped + affine.b).astype(x.dtype)


# An initializer of common.nn: init(key, (fan_in, fan_out), dtype) -> W.
Initializer = Callable[[jax.Array, tuple[int, ...], jnp.dtype], jax.Array]


class DepthStatistics(NamedTuple):
    """Per-layer activation statistics of a random deep network, layer-major."""

    mean: jax.Array  # (depth,)
    std: jax.Array  # (depth,)
    quantiles: jax.Array  # (depth, len(levels)), over all units and inputs of a layer


QUANTILE_ROWS = 64
"""Batch rows (inputs) over whose activations a layer's quantiles are taken."""


def propagate_depth_statistics(
    key: jax.Array,
    x_BxD: jax.Array,
    depth: int,
    activation: Callable[[jax.Array], jax.Array],
    init: Initializer,
    levels: jax.Array,
) -> DepthStatistics:
    """Push a batch through ``depth`` random square dense layers, no biases.

    Layer l draws W_l = init(fold_in(key, l), (D, D)) and computes
    h_l = activation(h_{l-1} @ W_l); the mean and std are over all batch rows and
    units of h_l, the quantiles at ``levels`` over its first QUANTILE_ROWS rows (a
    sort of every activation would cost more than the layer's product). One
    ``lax.scan`` over layers, so depth 64+ compiles once.
    This is the CS231n experiment of the notes (tanh, W ~ 0.01 N(0,1)) and the
    SELU / LeCun normal initialization check of the paper.
    """
    width = x_BxD.shape[-1]

    def layer(h_BxD, layer_index):
        w_DxD = init(jax.random.fold_in(key, layer_index), (width, width), h_BxD.dtype)
        h_BxD = activation(h_BxD @ w_DxD)
        quantiles = jnp.quantile(h_BxD[:QUANTILE_ROWS], levels) if levels.size else levels  # no levels: no sort
        stats = (jnp.mean(h_BxD), jnp.std(h_BxD), quantiles)
        return h_BxD, stats

    _, (mean, std, quantiles) = jax.lax.scan(layer, x_BxD, jnp.arange(depth))
    return DepthStatistics(mean, std, quantiles)


def random_layer_moments(mean: jax.Array | float, var: jax.Array | float, **constants) -> Moments:
    """Moments over all units and inputs of one random LeCun layer's SELU output, from the input's.

    With i.i.d. weights of variance 1/n (no biases), unit j's pre-activation
    is N(mu omega_j, nu tau_j) with omega_j ~ N(0, 1) across units and tau_j ~ 1,
    so pooled over units z ~ N(0, nu + mu^2): the moment map g at omega = 0,
    tau = 1 of the input's second moment. Its fixed point is (0, 1) too;
    iterating it predicts the per-layer statistics of ``propagate_depth_statistics``.
    """
    return moment_map(0.0, var + mean**2, 0.0, 1.0, **constants)


def iterate_random_layers(mean: float, var: float, depth: int) -> Moments:
    """(mean, var) after layers 1..depth of :func:`random_layer_moments`, arrays (depth,)."""

    def one(moments, _):
        new = random_layer_moments(*moments)
        return new, new

    start = Moments(jnp.asarray(mean, float), jnp.asarray(var, float))
    return jax.lax.scan(one, start, None, depth)[1]


def selu_backward_gain(var: jax.Array | float = 1.0, lam: float | None = None, alpha: float | None = None) -> jax.Array:
    """E[selu'(z)^2] for z ~ N(0, var): the mean-field factor by which one LeCun layer
    multiplies the gradient's variance on the way back (1.0716 at the fixed point, var = 1).

    selu'(z) = lam for z > 0 and lam alpha e^z below, and
    E[e^{2z}; z < 0] = e^{2 var} Phi(-2 sqrt(var)) = e^{2 var} erfc(sqrt(2 var)) / 2.
    """
    lam, alpha = constants(lam, alpha)
    below = jnp.exp(2.0 * var) * 0.5 * erfc(jnp.sqrt(2.0 * var))
    return lam**2 * (0.5 + alpha**2 * below)


def gradient_std_through_depth(
    key: jax.Array,
    x_BxD: jax.Array,
    depth: int,
    activation: Callable[[jax.Array], jax.Array],
    init: Initializer,
) -> jax.Array:
    """Std of dL/dh_l at every layer l = 1..depth for L = <h_depth, r>, r ~ N(0, 1).

    The backward counterpart of :func:`propagate_depth_statistics` (same
    layers, same weights for the same key): a random cotangent at the top is
    pulled back through the layers, and the gradient with respect to each
    layer's output is read off by adding a zero perturbation there. The
    theorem normalizes the forward pass only; this measures what the backward
    pass does (mean-field gain per layer: E[act'(z)^2] times the weights'
    variance times the width).
    """
    width = x_BxD.shape[-1]
    key_w, key_r = key, jax.random.fold_in(key, 2**31)  # the cotangent: a stream no layer uses

    def forward(zeros_LxBxD):
        def layer(h_BxD, inputs):
            layer_index, zero_BxD = inputs
            w_DxD = init(jax.random.fold_in(key_w, layer_index), (width, width), h_BxD.dtype)
            return activation(h_BxD @ w_DxD) + zero_BxD, None

        return jax.lax.scan(layer, x_BxD, (jnp.arange(depth), zeros_LxBxD))[0]

    zeros = jnp.zeros((depth, *x_BxD.shape), x_BxD.dtype)
    top, pullback = jax.vjp(forward, zeros)
    (grads_LxBxD,) = pullback(jax.random.normal(key_r, top.shape, top.dtype))
    return jnp.std(grads_LxBxD, axis=(1, 2))


# DeepMLP's dropouts after each hidden layer: drop(key, x, rate) -> x.
DROPOUTS = {"alpha": alpha_dropout, "plain": nn_dropout}


@dataclass(frozen=True)
class DeepMLP:
    """The paper's Figure 1 network: ``depth`` hidden layers of one width.

    Same interface as ``common.models.MLP`` (``init_variables`` / ``apply``),
    differing where Figure 1 needs it:
    - the hidden layers are stacked and run by one ``lax.scan``, so compile
      time does not grow with depth (common's MLP unrolls its layers);
      ``unroll=True`` unrolls that scan: compile time grows with depth, but
      XLA:CPU runs the training step (vmapped over 25 runs, width 40, depth
      16-32) about 30% faster, its backward pass no longer a loop;
    - BatchNorm comes after the activation, as in the reference code
      (bioinf-jku/SNNs figure1/run.py: dense with activation, then BN);
    - ``dropout_rate`` > 0 applies dropout after every hidden layer in training
      mode: ``dropout="alpha"`` the paper's alpha dropout ("New Dropout
      Technique", the SNN's dropout), ``"plain"`` inverted dropout (zeros,
      survivors scaled by 1/q), the variant alpha dropout replaces.
    The output layer is Xavier-initialized (the reference's TF default).
    Params: {"input": {"w", "b"}, "hidden": {"w": (depth-1, W, W), "b": (depth-1, W)},
    "output": {"w", "b"}[, "bn": {"scale", "bias"} (depth, W)]}.
    """

    depth: int
    width: int
    num_outputs: int
    activation: str = "selu"
    init: str = "lecun"
    batchnorm: bool = False
    dropout: str = "alpha"
    dropout_rate: float = 0.0
    unroll: bool = False

    def __post_init__(self):
        if self.dropout not in DROPOUTS:
            raise ValueError(f"dropout must be one of {sorted(DROPOUTS)} (got {self.dropout!r})")

    def init_variables(self, key, x):
        fan_in = x.reshape(x.shape[0], -1).shape[1]
        key_in, key_hidden, key_out = jax.random.split(key, 3)
        hidden_keys = jax.random.split(key_hidden, self.depth - 1)
        dtype = param_dtype(x)
        params = {
            "input": dense_init(key_in, fan_in, self.width, self.init, dtype),
            "hidden": jax.vmap(lambda k: dense_init(k, self.width, self.width, self.init, dtype))(hidden_keys),
            "output": dense_init(key_out, self.width, self.num_outputs, "xavier", dtype),
        }
        if not self.batchnorm:
            return params, {}
        bn_params, bn_state = batchnorm_init(self.width, dtype)
        stack = lambda a: jnp.stack([a] * self.depth)
        params["bn"] = jax.tree.map(stack, bn_params)
        return params, {"bn": jax.tree.map(stack, bn_state)}

    def truncated(self, params, state, depth: int):
        """These variables (one network's, from ``init_variables``) cut to ``depth`` layers: the
        input and output layers, the first ``depth - 1`` hidden layers (and BatchNorm's first
        ``depth``). The same numbers as ``replace(self, depth=depth).init_variables`` from the
        same key, since ``jax.random.split(key, n)`` is the first n keys of a longer split (the
        partitionable threefry, JAX's default); so one draw at the largest depth serves every
        depth (tests/research/test_selu.py checks it)."""
        if not 2 <= depth <= self.depth:
            raise ValueError(f"depth must be in [2, {self.depth}] (got {depth})")
        params = {**params, "hidden": jax.tree.map(lambda a: a[: depth - 1], params["hidden"])}
        if not self.batchnorm:
            return params, state
        params["bn"] = jax.tree.map(lambda a: a[:depth], params["bn"])
        return params, {"bn": jax.tree.map(lambda a: a[:depth], state["bn"])}

    def apply(self, params, state, x, *, train: bool = False, key=None):
        activation = ACTIVATIONS[self.activation]
        dropping = train and self.dropout_rate > 0.0
        drop = DROPOUTS[self.dropout]
        keys = jax.random.split(key, self.depth) if dropping else jnp.zeros((self.depth,))
        bn_params = params.get("bn", jnp.zeros((self.depth,)))
        bn_state = state.get("bn", jnp.zeros((self.depth,)))

        def block(h, layer, layer_bn_params, layer_bn_state, layer_key):
            h = activation(h @ layer["w"] + layer["b"])
            if self.batchnorm:
                h, layer_bn_state = batchnorm(layer_bn_params, layer_bn_state, h, train=train)
            if dropping:
                h = drop(layer_key, h, self.dropout_rate)
            return h, layer_bn_state

        first = jax.tree.map(lambda a: a[0], (bn_params, bn_state, keys))
        h, bn_first = block(x.reshape(x.shape[0], -1), params["input"], *first)
        rest = jax.tree.map(lambda a: a[1:], (bn_params, bn_state, keys))
        h, bn_rest = jax.lax.scan(lambda h, layer: block(h, *layer), h, (params["hidden"], *rest),
                                 unroll=self.unroll)
        logits = h @ params["output"]["w"] + params["output"]["b"]
        if not self.batchnorm:
            return logits, state
        new_bn = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), bn_first, bn_rest)
        return logits, {"bn": new_bn}
