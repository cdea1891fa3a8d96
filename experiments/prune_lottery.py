"""Lottery tickets by iterative magnitude pruning, against random reinit and random masks.

    python run.py prune-lottery --preset quick                     # MLP on MNIST-1D
    python run.py prune-lottery --preset large                     # the same, GPU-sized
    python run.py prune-lottery --preset quick --rewind-step 100   # late rewinding
    python run.py prune-lottery --preset paper --data-dir DATA     # small CNN, CIFAR-10

Frankle & Carbin (2019): train, prune the smallest-magnitude surviving weights,
rewind the survivors to their original init and repeat; the resulting sparse
"winning ticket" trains to higher test accuracy than the same mask on a random
reinit, and than a random mask, at high sparsity. Liu et al. (2019, Sec. 6):
that advantage is an artefact of a small learning rate; at the (larger) best
learning rate the winning ticket is no better than a random reinit.

Here each round prunes `rate` of the surviving weights (sparsity
1 - (1 - rate)^round), with one IMP chain per learning rate; every round trains,
for every learning rate and seed, the ticket (mask on the original init), the
random reinit (same mask, fresh init) and a random mask with the ticket's
layer-wise sparsities on the original init, all in one vmapped program with the
masks in the optimizer state. The lr schedule is the same as the dense model's
(x0.1 at 50% and 75% of the round). With `--rewind-step k` the ticket and the
random mask start from the dense run's weights after k steps instead of its
init (late rewinding, Frankle et al. 2020); the dense run is then two fits, the
second continuing the first's optimizer state and batch order exactly.
Measured (quick preset, idle 2-core CPU, 55 s): rewinding to step 100 of 600
gives ticket - reinit +0.059 / +0.063 at lr 0.001 / 0.01 (+0.049 / +0.071
rewound to init); the dense accuracies are the same to the last bit.
"""

from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from common import plots
from common.config import require_at_least_one
from common.experiment import Claim, Results
from common.members import Members
from common.models import CNN, MLP
from common.train import Loop, classifier_evaluation, epoch_batches, fit, seed_keys, supervised_step
from research.pruning import dense_masks
from research.pruning_lottery import imp_sparsities, imp_step, random_pruning, random_reinit
from research.pruning_protocol import protocol_optimizer, run_init, run_members

NAME = "prune-lottery"
STUDY = "pruning"
PAPER = "Frankle & Carbin 2019 (lottery tickets); Liu et al. 2019, Sec. 6"
REPRODUCES = ("test accuracy vs sparsity of IMP winning tickets, random reinit and random masks, "
              "at a small and a large learning rate")
# Wall seconds of the quick preset on the idle 2-core CPU (/usr/bin/time, 2026-11-27): 43 with a
# warm compilation cache, 54 on a cold one.
QUICK_SECONDS = 45

VARIANTS = ("ticket", "random reinit", "random mask")


@dataclass(frozen=True)
class Config:
    """Iterative magnitude pruning with rewinding to init; controls at two learning rates."""

    seeds: int = 5
    """Independent seeds, every one in the same vmapped program."""
    dataset: Literal["mnist1d", "cifar10"] = "mnist1d"
    model: Literal["mlp", "cnn"] = "mlp"
    mlp_widths: tuple[int, ...] = (100, 100)
    cnn_channels: tuple[int, ...] = (32, 32, 32)
    cnn_kernel: int = 5
    steps: int = 600
    """Training steps of every round."""
    batch_size: int = 100
    optimizer: Literal["sgd", "adam"] = "adam"
    learning_rates: tuple[float, float] = (1e-3, 1e-2)
    """(small, large) peak learning rates: one IMP chain each (Liu et al. Sec. 6)."""
    weight_decay: float = 0.0
    rate: float = 0.5
    """Fraction of the surviving weights pruned per round."""
    rounds: int = 5
    """Pruning rounds: the last sparsity is 1 - (1 - rate)^rounds."""
    scope: Literal["layer", "global"] = "layer"
    rewind_step: int = 0
    """Rewind point of the ticket and the random mask: 0 = the original init (Frankle & Carbin
    2019); k > 0 = the dense run's weights after k steps (late rewinding, Frankle et al. 2020;
    here every round then trains the full `steps` with its schedule from the start)."""
    high_sparsity: float = 0.85
    """Claims average the rounds at or above this sparsity."""
    chunk: int = 100
    seed: int = 0

    def __post_init__(self):
        require_at_least_one(self, ("seeds", "steps", "batch_size", "rounds", "chunk", "cnn_kernel"))
        if not 0.0 < self.rate < 1.0:
            raise ValueError(f"rate must be in (0, 1) (got {self.rate})")
        small, large = self.learning_rates
        if not 0.0 < small < large:
            raise ValueError("learning_rates must be (small, large) with 0 < small < large")
        if self.rewind_step < 0 or self.rewind_step >= self.steps or self.rewind_step % self.chunk:
            raise ValueError(f"rewind_step must be a multiple of chunk ({self.chunk}) in [0, steps) "
                             f"(got {self.rewind_step})")
        if self.steps % self.chunk:
            raise ValueError(f"steps ({self.steps}) must be a multiple of chunk ({self.chunk})")
        if max(imp_sparsities(self.rate, self.rounds)) < self.high_sparsity:
            raise ValueError("no round reaches high_sparsity: raise rounds or rate")


PRESETS = {
    "quick": Config(),
    # MNIST-1D at GPU size: LeNet-300-100 widths, 10 seeds, to 99.2% sparsity.
    "large": Config(seeds=10, mlp_widths=(300, 100), steps=3000, rounds=7, chunk=250),
    "paper": Config(dataset="cifar10", model="cnn", cnn_channels=(64, 128, 256), cnn_kernel=3,
                    steps=4000, batch_size=128, optimizer="sgd", learning_rates=(0.01, 0.1),
                    weight_decay=1e-4, rate=0.4, rounds=7, chunk=200),
}


def batched(fn):
    """jit(vmap(fn)): one compile, where an eager vmap compiles every primitive on its own."""
    return jax.jit(jax.vmap(fn))


def make_model(config: Config, num_classes: int):
    if config.model == "mlp":
        return MLP(config.mlp_widths, num_classes)
    return CNN(config.cnn_channels, num_classes, kernel=config.cnn_kernel, stride=2,
               padding=config.cnn_kernel // 2)


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    model = make_model(config, data.num_classes)
    optimizer = protocol_optimizer(config.optimizer, config.weight_decay)
    n_lr, n = len(config.learning_rates), config.seeds
    x1 = data.x_train[:1]
    # both lr chains start from the same inits
    seeds = seed_keys(config.seed, n)
    init_one = batched(lambda k: model.init_variables(k, x1)[0])(seeds)
    init = jax.tree.map(lambda a: jnp.concatenate([a] * n_lr), init_one)
    lrs = np.repeat(config.learning_rates, n)

    # run keys (lr, seed), lr-major; variant t of a round folds in t
    chain_keys = jnp.concatenate([batched(lambda k, i=i: jax.random.fold_in(k, 100 + i))(seeds)
                                  for i in range(n_lr)])

    def variant_keys(count):
        return jnp.concatenate([batched(lambda k, t=t: jax.random.fold_in(k, t))(chain_keys)
                                for t in range(count)])

    def fit_runs(name, init_fn, keys, steps, members):
        return fit(name, init=init_fn, step=supervised_step(model, optimizer),
                   sample_batch=epoch_batches(config.batch_size), data=(data.x_train, data.y_train),
                   loop=Loop(steps=steps, chunk=config.chunk), keys=keys.reshape(-1, n), members=members,
                   evaluate=classifier_evaluation(model), eval_data=(data.x_test, data.y_test),
                   session=session)

    def by_member(tree):
        """Leading run axis (variant, lr, seed) to (members, seeds)."""
        return jax.tree.map(lambda a: a.reshape(-1, n, *a.shape[1:]), tree)

    def labels(count):
        return [{"variant": t, "learning_rate": float(lr)} for t in range(count) for lr in config.learning_rates]

    def runs_members(variants):
        """Run i of variant t starts from variants[t]'s (params, masks) with a fresh schedule."""
        count = len(variants) * n_lr
        cat = lambda *xs: jnp.concatenate(xs)  # noqa: E731
        return run_members(by_member(jax.tree.map(cat, *[p for p, _ in variants])),
                           by_member(jax.tree.map(cat, *[m for _, m in variants])),
                           np.tile(config.learning_rates, len(variants)), np.full(count, config.steps),
                           np.ones(count, bool), labels(len(variants)))

    def final(out, count):
        """Final test accuracy (variant, lr, seed) and the first variant's final params."""
        acc = out.curve("eval/accuracy")[-1].reshape(count, n_lr, n)
        return acc, jax.tree.map(lambda a: a[: n_lr * n], out.state.params)

    def train(name, variants):
        keys = variant_keys(len(variants))
        return final(fit_runs(name, run_init(optimizer), keys, config.steps, runs_members(variants)),
                     len(variants))

    masks = batched(dense_masks)(init)
    if config.rewind_step:
        # The dense run in two fits, the second continuing the first's states (params,
        # optimizer moments, schedule count, batch order): it ends where one fit would.
        keys = variant_keys(1)
        head = fit_runs("dense-to-rewind", run_init(optimizer), keys, config.rewind_step,
                        runs_members([(init, masks)]))
        rewind = head.state.params
        dense_acc, trained = final(
            fit_runs("dense", lambda key, state: state, keys, config.steps - config.rewind_step,
                     Members(by_member(head.state), labels(1), per_seed=True)), 1)
    else:
        rewind = init
        dense_acc, trained = train("dense", [(init, masks)])
    sparsities = [0.0, *imp_sparsities(config.rate, config.rounds)]
    accuracy = np.zeros((n_lr, len(VARIANTS), len(sparsities), n))
    accuracy[:, :, 0] = dense_acc[0][:, None, :]
    for r, s in enumerate(sparsities[1:], start=1):
        masks, ticket = batched(lambda t, i, m, s=s: imp_step(t, i, m, s, config.scope))(
            trained, rewind, masks)
        fresh = batched(lambda k, r=r: model.init_variables(jax.random.fold_in(k, 1000 + r), x1)[0])(
            seeds)
        reinit = random_reinit(jax.tree.map(lambda a: jnp.concatenate([a] * n_lr), fresh), masks)
        shuffle_keys = batched(lambda k, r=r: jax.random.fold_in(k, 2000 + r))(chain_keys)
        random_m, random_p = batched(random_pruning)(shuffle_keys, rewind, masks)
        acc, trained = train(f"round{r}", [(ticket, masks), (reinit, masks), (random_p, random_m)])
        accuracy[:, :, r] = acc.transpose(1, 0, 2)
    return _results(config, np.array(sparsities), accuracy)


def _results(config: Config, sparsities, accuracy) -> Results:
    """accuracy: (lr, variant, sparsity, seed)."""
    results = Results()
    results.arrays["sparsity"] = sparsities
    rows = []
    high = sparsities >= config.high_sparsity
    for i, lr in enumerate(config.learning_rates):
        for j, v in enumerate(VARIANTS):
            results.arrays[f"lr{lr:g}/{v}"] = accuracy[i, j]  # (points = sparsities, seeds)
        for k, s in enumerate(sparsities):
            row = {"lr": lr, "sparsity %": round(100 * s, 2)}
            for j, v in enumerate(VARIANTS):
                row[v] = float(np.mean(accuracy[i, j, k]))
                row[f"{v} std"] = float(np.std(accuracy[i, j, k]))
            rows.append(row)
        # per-seed gap averaged over the high-sparsity rounds
        gap_reinit = (accuracy[i, 0, high] - accuracy[i, 1, high]).mean(axis=0)
        gap_random = (accuracy[i, 0, high] - accuracy[i, 2, high]).mean(axis=0)
        tag = "small" if i == 0 else "large"
        results.scalars[f"{tag}_lr/ticket_minus_reinit"] = float(np.mean(gap_reinit))
        results.scalars[f"{tag}_lr/ticket_minus_reinit_std"] = float(np.std(gap_reinit))
        results.scalars[f"{tag}_lr/ticket_minus_random_mask"] = float(np.mean(gap_random))
        results.scalars[f"{tag}_lr/dense"] = float(np.mean(accuracy[i, 0, 0]))
        results.scalars[f"{tag}_lr/best_high"] = float(accuracy[i, :, high].mean(axis=(0, 2)).max())
    s = results.scalars
    s["lr_gap_shrink"] = s["small_lr/ticket_minus_reinit"] - s["large_lr/ticket_minus_reinit"]
    s["lr_gap_shrink_beyond_spread"] = s["lr_gap_shrink"] - float(np.hypot(
        s["small_lr/ticket_minus_reinit_std"], s["large_lr/ticket_minus_reinit_std"]))
    s["large_lr/gap_beyond_spread"] = (s["large_lr/ticket_minus_reinit"]
                                       - s["large_lr/ticket_minus_reinit_std"])
    results.tables["Test accuracy (mean over seeds) by sparsity"] = rows
    small, large = config.learning_rates
    rewind = (f"the dense run's weights after {config.rewind_step} steps (late rewinding)"
              if config.rewind_step else "the original init")
    results.notes += [
        f"Tickets and random masks are rewound to {rewind}.",
        f"Gaps are per-seed differences averaged over rounds with sparsity >= "
        f"{config.high_sparsity:.0%}, then mean (std) over seeds.",
        f"lr {small:g}: ticket - reinit = {s['small_lr/ticket_minus_reinit']:+.3f} "
        f"({s['small_lr/ticket_minus_reinit_std']:.3f}), ticket - random mask = "
        f"{s['small_lr/ticket_minus_random_mask']:+.3f}; dense {s['small_lr/dense']:.3f}.",
        f"lr {large:g}: ticket - reinit = {s['large_lr/ticket_minus_reinit']:+.3f} "
        f"({s['large_lr/ticket_minus_reinit_std']:.3f}), ticket - random mask = "
        f"{s['large_lr/ticket_minus_random_mask']:+.3f}; dense {s['large_lr/dense']:.3f}.",
        f"Gap shrink from lr {small:g} to {large:g}: {s['lr_gap_shrink']:+.3f} "
        f"(seed spread {s['lr_gap_shrink'] - s['lr_gap_shrink_beyond_spread']:.3f}).",
    ]
    if s["large_lr/gap_beyond_spread"] > 0:
        results.notes.append(
            f"Liu et al.'s Sec. 6 condition did not hold here: at lr {large:g} (the better of the two "
            f"for the dense net) the ticket still beats random reinit beyond the seed spread. Their "
            "finding is for CIFAR VGG/ResNet with SGD at lr 0.1; a possible reason for the "
            "difference (not tested here) is that the short MNIST-1D runs keep the mask tied to "
            "the init (Zhou et al. 2019 find the kept weights' init signs carry much of a "
            "ticket's advantage).")
    return results


def figures(results: Results, directory) -> None:
    lrs = sorted({k.split("/")[0] for k in results.arrays if k.startswith("lr")},
                 key=lambda t: float(t[2:]))
    fig, axes = plots.new_figure(ncols=len(lrs), width=4.6, sharey=True)
    remaining = 100 * (1 - results.arrays["sparsity"])
    for ax, tag in zip(axes[0], lrs):
        for v in VARIANTS:
            plots.seed_band(ax, remaining, results.arrays[f"{tag}/{v}"], v, marker="o", ms=3)
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set(xlabel="weights remaining (%)", ylabel="test accuracy",
               title=f"IMP, {tag.replace('lr', 'lr ')}")
        ax.legend()
    plots.save(fig, directory, "accuracy_vs_sparsity", **results.arrays)


CLAIMS = [
    Claim("small lr, high sparsity: the rewound ticket beats random reinit (Frankle & Carbin)",
          "ticket > reinit", lambda r: r.scalars["small_lr/ticket_minus_reinit"], lambda v: v > 0,
          fmt="{:+.3f}"),
    Claim("small lr, high sparsity: the ticket beats a random mask", "ticket > random",
          lambda r: r.scalars["small_lr/ticket_minus_random_mask"], lambda v: v > 0, fmt="{:+.3f}"),
    Claim("Liu et al. Sec. 6: the ticket's edge over reinit shrinks at the larger lr, by more "
          "than the seed spread (gap small lr - gap large lr - spread > 0)", "shrinks",
          lambda r: r.scalars["lr_gap_shrink_beyond_spread"], lambda v: v > 0, fmt="{:+.3f}"),
    Claim("Liu et al. Sec. 6: at the larger lr the ticket is no better than reinit "
          "(gap - seed std <= 0)", "no better", lambda r: r.scalars["large_lr/gap_beyond_spread"],
          lambda v: v <= 0, fmt="{:+.3f}"),
]
