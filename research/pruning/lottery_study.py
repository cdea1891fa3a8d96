"""prune-lottery's records and the numbers computed from them: the IMP chains of two learning rates
(Frankle & Carbin 2019; Liu et al. 2019, Sec. 6) and the error barriers between two copies of the
dense net (Frankle et al. 2020), their report rows, and synthetic records for the claims' controls."""

from typing import NamedTuple

import jax
import numpy as np

from common import stats
from research.pruning import protocol
from research.pruning.connectivity import barrier, line_errors
from research.pruning.intervals import accuracy_interval
from research.pruning.programs import host, initializer, ones_like
from research.pruning.runs import Run, members_of

LRS = ("small_lr", "large_lr")
VARIANTS = {"ticket": "ticket", "random_reinit": "random reinit", "random_mask": "random mask"}


class Dense(NamedTuple):
    """The dense run, every (lr, seed) run lr-major, and its states at every rewind step."""

    keys: jax.Array  # (runs,)
    states: dict  # rewind step -> TrainState (runs leading); 0 is the initial state
    final: dict  # final params
    accuracy: np.ndarray  # test accuracy (lr, seed)
    validation: np.ndarray  # validation accuracy (lr, seed): the training criterion


class DenseStart(NamedTuple):
    """Where the dense run starts: its keys (runs,), member inputs and initial states."""

    keys: jax.Array
    members: object
    state: object


def dense_start(model, optimizer, seeds, keys, x1, learning_rates, steps: int) -> DenseStart:
    """Every (lr, seed) run, lr-major, from the same init at each lr (`seeds`: one key per seed)."""
    init = host(initializer(model)(seeds, x1))
    members = members_of([Run(init, ones_like(init), lr, steps, True) for lr in learning_rates], len(seeds))
    return DenseStart(keys, members, protocol.initial_states(protocol.run_init(optimizer), keys, members))


class Imp(NamedTuple):
    accuracy: np.ndarray  # (variant, round, seed), round 0 the dense net
    sparsity: np.ndarray  # overall, per round
    reinit_again: np.ndarray  # the last round's random reinit from another init (seeds,): an A/A control


class Chain(NamedTuple):
    """One learning rate's results: IMP (rounds + 1, seeds; round 0 dense) and mode connectivity."""

    ticket: np.ndarray
    random_reinit: np.ndarray
    random_mask: np.ndarray
    lmc_barrier: np.ndarray  # (rewind steps, seeds)
    lmc_error: np.ndarray  # test error on the line, (rewind steps, points, seeds)
    independent_barrier: np.ndarray  # between two independently trained dense nets, (seeds,)
    dense_validation: np.ndarray  # the dense net's validation accuracy (seeds,): did this lr train it?
    reinit_again: np.ndarray  # the last round's random reinit from another init (seeds,): an A/A control


class Axes(NamedTuple):
    sparsity: np.ndarray  # overall, per round (round 0 dense)
    high: np.ndarray  # rounds the claims average
    learning_rates: np.ndarray
    lmc_rewind_steps: np.ndarray
    lmc_alphas: np.ndarray
    trained_within: float  # the training criterion: a chain's dense validation accuracy within this of the best


class Lines(NamedTuple):
    copies: np.ndarray  # test error on the line A -> B for every rewind step, (K, L, P, S)
    independent: np.ndarray  # on the line between dense nets of two seeds, (L, S, P)


def mode_connectivity(model, x_test, y_test, final, copies_b: list, n_lr: int, n: int, alphas) -> Lines:
    """Test error on the line from the dense net (copy A) to every copy B, and to the dense net of
    the next seed (independent inits); params runs-leading, (lr, seed) lr-major."""
    errors = line_errors(model, x_test, y_test, alphas)
    final = host(final)
    on_lines = np.stack([np.asarray(errors(final, host(b))) for b in copies_b])  # (K, runs, P)
    on_lines = on_lines.reshape(len(copies_b), n_lr, n, -1).transpose(0, 1, 3, 2)
    other_seed = jax.tree.map(lambda a: np.roll(np.asarray(a).reshape(n_lr, n, *a.shape[1:]), 1, axis=1)
                              .reshape(a.shape), final)
    return Lines(on_lines, np.asarray(errors(final, other_seed)).reshape(n_lr, n, -1))


def collect(imps: list[Imp], lines: Lines, dense_validation, config, ks, alphas) -> tuple[dict[str, Chain], Axes]:
    """Each lr's Chain (its IMP chain, barriers and dense validation accuracy) and the shared Axes."""
    chains = {tag: Chain(*imp.accuracy, barrier(lines.copies[:, i].transpose(0, 2, 1)), lines.copies[:, i],
                         barrier(lines.independent[i]), dense_validation[i], imp.reinit_again)
              for i, (tag, imp) in enumerate(zip(LRS, imps))}
    sparsity = imps[-1].sparsity
    return chains, Axes(sparsity, sparsity >= config.high_sparsity, np.array(config.learning_rates), np.array(ks),
                        np.asarray(alphas), config.trained_within)


def high_gap(axes: Axes, chain: Chain, other: str) -> np.ndarray:
    """Per seed: ticket minus `other`, averaged over the high-sparsity rounds."""
    high = np.asarray(axes.high, bool)
    return (chain.ticket[high] - getattr(chain, other)[high]).mean(axis=0)


def accuracy_rows(axes: Axes, chains: list[Chain], n_test: int) -> list[dict]:
    """Mean test accuracy and its interval (t over seeds, Wilson over the test set) by lr and round."""
    return [{"lr": lr, "sparsity %": round(100 * s, 2),
             **{label: float(np.mean(getattr(chain, v)[k])) for v, label in VARIANTS.items()},
             **{f"{label} 95%": f"{accuracy_interval(getattr(chain, v)[k], n_test):.3g}"
                for v, label in VARIANTS.items()}}
            for lr, chain in zip(axes.learning_rates, chains) for k, s in enumerate(axes.sparsity)]


def barrier_rows(axes: Axes, chains: list[Chain]) -> list[dict]:
    """Mean and std over seeds of the barrier at every rewind step, then between independent inits."""
    return [{"lr": lr, "rewind step": int(k), "barrier": float(np.mean(b)), "std": float(np.std(b)),
             "endpoint error": float(np.mean(e[[0, -1]]))}
            for lr, chain in zip(axes.learning_rates, chains)
            for k, b, e in zip(axes.lmc_rewind_steps, chain.lmc_barrier, chain.lmc_error)
            ] + [{"lr": lr, "rewind step": "independent inits", "barrier": float(np.mean(chain.independent_barrier)),
                  "std": float(np.std(chain.independent_barrier)), "endpoint error": float("nan")}
                 for lr, chain in zip(axes.learning_rates, chains)]


def synthetic(edge: dict[str, float] | None = None, barriers=(0.0, 0.0), mask_offset: float = -0.01,
              seeds: int = 5) -> tuple[Axes, dict[str, Chain]]:
    """Accuracy 0.6 for random reinit, 0.6 + mask_offset for the random mask and 0.6 + edge[lr] for
    the ticket at two high-sparsity rounds; dense-net barriers (first and last rewind step); a small
    seed pattern throughout."""
    edge, noise = edge or {}, 0.004 * np.linspace(-1, 1, seeds)
    sparsity = np.array([0.0, 0.9, 0.95])
    axes = Axes(sparsity, sparsity > 0.5, np.array([0.01, 0.1]), np.array([0, 300]), np.linspace(0, 1, 3), 0.03)
    base = np.tile(0.6 + noise, (3, 1))
    return axes, {tag: Chain(base + edge.get(tag, 0.0) + noise[::-1], base, base + mask_offset,
                             np.array([barriers[0] + noise, barriers[1] + noise / 2]), np.zeros((2, 3, seeds)),
                             0.3 + noise, 0.6 + noise, base[-1] + noise[::-1]) for tag in LRS}


def notes(config, axes: Axes, chains: dict[str, Chain]) -> list[str]:
    """The report's notes: the pruning schedule, and per lr the training criterion, the gaps and the run-time A/A."""
    rewind = f"the dense run's weights after {config.rewind_step} steps" if config.rewind_step else "the init"
    output = f"the output layer {config.output_rate:.0%}" if config.output_rate else "every layer alike"
    lines = [(f"Tickets and random masks are rewound to {rewind}; each round prunes {config.rate:.0%} "
              f"of the surviving weights ({output}). Gaps: per-seed differences averaged over the "
              f"rounds at sparsity >= {config.high_sparsity:.0%}, then a t interval over seeds.")]
    for tag, lr in zip(LRS, config.learning_rates):
        chain = chains[tag]
        lines.append(
            f"lr {lr:g}: dense validation accuracy {stats.mean(chain.dense_validation):.3g} (training criterion: "
            f"within {config.trained_within:g} of the better lr's); ticket - random reinit "
            f"{stats.mean(high_gap(axes, chain, 'random_reinit')):+.3g}, ticket - random mask "
            f"{stats.mean(high_gap(axes, chain, 'random_mask')):+.3g} (t over seeds, paired on the same test "
            "examples, so the test set's sampling noise is shared and cancels in the gap); A/A at run time, the "
            "last round's random reinit from a second init minus the first: "
            f"{stats.paired_difference(chain.reinit_again, chain.random_reinit[-1]):+.3g}.")
    return lines
