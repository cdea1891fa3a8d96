"""MNIST-1D baselines: logistic regression, an MLP and a CNN, every seed in
one vmapped program on the foundation's trainer.

    python run.py mnist1d-baselines --preset quick     # 23-60 s on 2 CPU cores (warm/cold cache)
    python run.py mnist1d-baselines --preset paper     # the paper's 6000 steps

Greydanus (2020), "Scaling down deep learning" (MNIST-1D), reports test
accuracy: logistic regression 32%, MLP 68%, CNN 94% (4000 train / 1000 test,
length-40 sequences; Adam lr 1e-2, batch 100, 6000 steps in the reference
notebook; MLP 2 x 100 ReLU; CNN 3 conv layers of 25 channels, kernel 5,
stride 2, padding 1).
"""

from dataclasses import dataclass
from typing import Literal

import jax
import numpy as np
import optax

from common import plots, stats
from common.config import require_at_least_one, require_numbers_representable, require_positive
from common.experiment import Claim, Control, DataUse, Results, above, near
from common.models import CNN, MLP, Linear
from common.parallel import map_independent
from common.train import Loop, classifier_evaluation, epoch_batches, fit, new_state, seed_keys, supervised_step
from experiments.api import main

NAME = "mnist1d-baselines"
STUDY = "foundation"
PAPER = "Greydanus 2020, Scaling down deep learning (MNIST-1D)"
REPRODUCES = "test accuracy of logistic regression, MLP and CNN on MNIST-1D (paper: 32%, 68%, 94%)"

PAPER_ACCURACY = {"logistic": 0.32, "mlp": 0.68, "cnn": 0.94}


@dataclass(frozen=True)
class Config:
    """MNIST-1D baselines; accuracy is measured on the 1000 test examples."""

    seeds: int = 5
    """Independent seeds, trained together in one vmapped program."""
    dataset: Literal["mnist1d", "mnist-subset", "mnist", "fashion-mnist", "cifar10"] = "mnist1d"
    """The paper's numbers are for mnist1d; the others run the same models (IDX/CIFAR need --data-dir)."""
    steps: int = 6000
    """Optimizer steps per model."""
    batch_size: int = 100
    """Examples per minibatch."""
    learning_rate: float = 1e-2
    """Adam step size (the MNIST-1D notebook's)."""
    mlp_width: int = 100
    cnn_channels: int = 25
    eval_every: int = 500
    """Steps between test evaluations (a multiple of chunk)."""
    chunk: int = 250
    """Steps per compiled lax.scan."""
    checkpoint_every: int = 500
    """Steps between checkpoints (a multiple of chunk); --resume continues from the newest."""
    seed: int = 0
    """Base random seed of the run's random draws (initializations, data order, samples)."""

    def __post_init__(self):
        require_numbers_representable(self)
        positive = ("seeds", "steps", "batch_size", "mlp_width", "cnn_channels", "eval_every", "chunk",
                "checkpoint_every")
        require_at_least_one(self, positive)
        require_positive(self, ("learning_rate",))
        for field in ("eval_every", "checkpoint_every"):
            if getattr(self, field) % self.chunk:
                raise ValueError(f"{field} ({getattr(self, field)}) must be a multiple of chunk ({self.chunk})")

    def data_use(self) -> DataUse:
        return DataUse(self.dataset, {"batch_size": self.batch_size})


PRESETS = {
    "quick": Config(steps=2000, eval_every=500, chunk=250),
    "paper": Config(steps=6000, eval_every=500, chunk=500),
}


def models(config: Config, num_classes: int) -> dict:
    return {
        "logistic": Linear(num_classes),
        "mlp": MLP((config.mlp_width, config.mlp_width), num_classes, activation="relu", init="he"),
        "cnn": CNN((config.cnn_channels,) * 3, num_classes, kernel=5, stride=2, padding=1),
    }


def run(config: Config, session) -> Results:
    data = session.dataset(config.dataset)
    optimizer = optax.adam(config.learning_rate)
    loop = Loop(steps=config.steps, chunk=config.chunk, eval_every=config.eval_every,
                checkpoint_every=config.checkpoint_every)
    results = Results()
    rows = []
    networks = models(config, data.num_classes)

    def train(name: str):
        model = networks[name]

        def init(key):
            params, model_state = model.init_variables(key, data.x_train[:1])
            return new_state(params, optimizer.init(params), key, model_state)

        return fit(
            name, init=init, step=supervised_step(model, optimizer), sample_batch=epoch_batches(config.batch_size),
            data=(data.x_train, data.y_train), loop=loop, keys=seed_keys(config.seed, config.seeds),
            evaluate=classifier_evaluation(model), eval_data=(data.x_test, data.y_test), session=session,
        )

    # Side by side on two threads (the same numbers as one after another), the costliest first (CNN, MLP)
    # so that one thread compiles and trains the cheap ones while the other trains the CNN.
    order = list(reversed(networks))
    fitted = dict(zip(order, map_independent(train, order)))
    for name in networks:
        out = fitted[name]
        accuracy = out.curve("eval/accuracy")  # (evaluations, seeds)
        final = accuracy[-1]
        results.arrays[f"{name}/eval_step"] = np.array(out.history["eval_step"])
        results.arrays[f"{name}/test_accuracy"] = accuracy
        # The claims read these only for MNIST-1D, where the paper's numbers apply.
        if config.dataset == "mnist1d":
            results.scalars[f"{name}/test_accuracy"] = float(np.nanmean(final))
            results.scalars[f"{name}/test_accuracy_std"] = float(np.nanstd(final))
        rows.append({
            "model": name, "params": sum(x.size for x in jax.tree.leaves(out.state.params)) // config.seeds,
            "test accuracy (mean)": float(np.nanmean(final)), "std over seeds": float(np.nanstd(final)),
            "paper (MNIST-1D)": PAPER_ACCURACY[name], "diverged seeds": int((out.diverged_at >= 0).sum()),
            "steps/s (all seeds, beside another fit)": out.steps_per_second,
        })
    results.tables[f"Test accuracy on {config.dataset}"] = rows
    results.notes.append(
        f"Every model trains with Adam at lr {config.learning_rate}, batch {config.batch_size}: the reference "
        "notebook's single setting for all three models (Greydanus 2020 tuned the models, not a per-model lr), so "
        "the paper's numbers are reproduced under the paper's own protocol; no lr is chosen here, on test or on "
        "validation data.")
    results.arrays["on_mnist1d"] = np.array(config.dataset == "mnist1d")  # paper lines apply only there
    return results


def figures(results: Results, directory) -> None:
    fig, axes = plots.new_figure()
    ax = axes[0, 0]
    for name in PAPER_ACCURACY:
        plots.seed_band(ax, results.arrays[f"{name}/eval_step"], results.arrays[f"{name}/test_accuracy"], name)
        if results.arrays["on_mnist1d"]:
            ax.axhline(PAPER_ACCURACY[name], ls=":", lw=0.8, color=ax.lines[-1].get_color())
    title = "MNIST-1D (dotted: paper)" if results.arrays["on_mnist1d"] else "test accuracy (no paper numbers)"
    ax.set(xlabel="step", ylabel="test accuracy", title=title, ylim=(0, 1))
    ax.legend(loc="center right")
    plots.save(fig, directory, "test_accuracy", **results.arrays)


def final_accuracies(results: Results, model: str) -> np.ndarray:
    """Per-seed test accuracy after the last step (the claims' samples)."""
    if not results.arrays["on_mnist1d"]:
        raise KeyError("the paper's numbers are for MNIST-1D only")
    return results.arrays[f"{model}/test_accuracy"][-1]


def accuracy(model: str):
    return lambda r: stats.mean(final_accuracies(r, model))


def ordering(r: Results) -> stats.Measurement:
    """CNN > MLP > logistic: the smaller of the two paired (same seed) differences."""
    acc = {m: final_accuracies(r, m) for m in PAPER_ACCURACY}
    return stats.smallest(stats.paired_difference(acc["cnn"], acc["mlp"]),
                          stats.paired_difference(acc["mlp"], acc["logistic"]))


def seeds_at(values: dict[str, float], spread: float = 0.01, seeds: int = 5) -> Results:
    """Synthetic final accuracies around `values` (the contract test's cases)."""
    offsets = spread * np.linspace(-1, 1, seeds)
    return Results(arrays={"on_mnist1d": np.array(True)} | {
        f"{m}/test_accuracy": np.array([v + offsets]) for m, v in values.items()})


CHANCE = {m: 0.1 for m in PAPER_ACCURACY}  # ten classes


def shuffled_labels() -> Results:
    """The negative control: a model trained on shuffled labels scores chance, 1/10."""
    return seeds_at(CHANCE)


def as_in_paper() -> Results:
    return seeds_at(PAPER_ACCURACY)


# Tolerances: the paper gives one number per model; across seeds the test
# accuracy varies by 1-3 points (measured std is in the table) and the quick
# preset trains a third as long, so a model "reproduces" when the 95% interval
# of its seeds' mean lies within 6 points (logistic, MLP) or 5 points (CNN,
# whose accuracy is near its ceiling) of the paper's number.
CLAIMS = [
    Claim(
        statement="logistic regression test accuracy ~32%",
        paper="0.32",
        measure=accuracy("logistic"),
        region=near(0.32, 0.06),
        control=Control(name="shuffled labels (chance, 0.1)", results=shuffled_labels),
        passing=as_in_paper,
    ),
    Claim(
        statement="MLP test accuracy ~68%",
        paper="0.68",
        measure=accuracy("mlp"),
        region=near(0.68, 0.06),
        control=Control(name="shuffled labels (chance, 0.1)", results=shuffled_labels),
        passing=as_in_paper,
    ),
    Claim(
        statement="CNN test accuracy ~94%",
        paper="0.94",
        measure=accuracy("cnn"),
        region=near(0.94, 0.05),
        control=Control(name="shuffled labels (chance, 0.1)", results=shuffled_labels),
        passing=as_in_paper,
    ),
    Claim(
        statement="CNN > MLP > logistic regression (smaller paired difference of test accuracy)",
        paper="0.26 and 0.36",
        measure=ordering,
        region=above(0.0),
        control=Control(name="three equal models (A/A)", results=shuffled_labels),
        passing=as_in_paper,
        fmt="{:+.3f}",
    ),
]


if __name__ == "__main__":
    main(NAME)
