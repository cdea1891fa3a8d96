"""Every option of every experiment is checked before a run folder exists: numbers
that no program can hold, values out of their range, options the chosen setting
ignores, sizes larger than the data, and --data-dir where no files are read."""

import dataclasses
import typing

import pytest

import experiments
import run
from common.config import INT32_MAX, parse

REGISTRY = experiments.all_experiments()


def numeric_fields():
    """(experiment, field, kind, length) for every int, float or tuple-of-numbers field."""
    for name, module in REGISTRY.items():
        hints = typing.get_type_hints(module.Config)
        for field in dataclasses.fields(module.Config):
            hint = hints[field.name]
            args = typing.get_args(hint)
            if hint in (int, float):
                yield name, field.name, hint, None
            elif typing.get_origin(hint) is tuple and args and args[0] in (int, float):
                yield name, field.name, args[0], len(getattr(module.PRESETS["quick"], field.name)) or 1


NUMERIC = list(numeric_fields())


# Fields whose values are signed by nature (a distribution's mean): -1 is a valid value there.
SIGNED = {("selu-depth", "start_means")}


def bad_values(kind, signed: bool = False):
    """Values no field of this kind accepts: outside an int32, or not a finite number, or negative
    (unless the field is signed)."""
    if kind is int:
        return [INT32_MAX + 1, -(2**40)] + ([] if signed else [-1])
    return [float("inf"), float("-inf"), float("nan")] + ([] if signed else [-1.0])


@pytest.mark.parametrize("experiment,field,kind,length", NUMERIC, ids=[f"{e}.{f}" for e, f, *_ in NUMERIC])
def test_every_numeric_field_refuses_unholdable_values(experiment, field, kind, length):
    """Registry-wide contract: a Config refuses each bad value in each numeric field."""
    preset = REGISTRY[experiment].PRESETS["quick"]
    for value in bad_values(kind, (experiment, field) in SIGNED):
        given = value if length is None else (value,) * length
        with pytest.raises(ValueError) as info:
            dataclasses.replace(preset, **{field: given})
        assert "\n" not in str(info.value)


def test_the_contract_covers_every_experiment():
    assert {e for e, *_ in NUMERIC} == set(REGISTRY)
    assert len(NUMERIC) > 100


def check_refused(argv, capsys, tmp_path, monkeypatch, expect: str):
    monkeypatch.chdir(tmp_path)
    assert run.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("error: ") and expect in err, err
    assert list(tmp_path.iterdir()) == [], "nothing may be left behind"


@pytest.mark.parametrize("argv,expect", [
    # beyond an int32
    (["mnist1d-baselines", "--steps", str(2**31)], "steps must fit in an int32"),
    (["selu-depth", "--batch", str(2**63)], "batch must fit in an int32"),
    (["ad-cost", "--depths", "4", str(2**33)], "depths must fit in an int32"),
    # not a finite number, or out of range
    (["mnist1d-baselines", "--learning-rate", "inf"], "learning_rate must be a finite number"),
    (["bbb-classify", "--kl-scales", "0.1", "nan"], "kl_scales must be a finite number"),
    (["bbb-classify", "--kl-scales", "0.1", "-1"], "kl_scales must be positive"),
    (["bbb-classify", "--learning-rates", "0"], "learning_rates must be positive"),
    (["prune-lottery", "--weight-decay", "-0.001"], "weight_decay must be at least 0"),
    (["prune-lottery", "--learning-rates", "0.01", "inf"], "learning_rates must be a finite number"),
    (["prune-lottery", "--high-sparsity", "1.5"], "high_sparsity must be in [0, 1]"),
    (["prune-rethink", "--sparsities", "0.5", "1.0"], "sparsities must be in (0, 1)"),
    (["gan-mixture", "--beta1", "1"], "beta1 must be in [0, 1)"),
    (["gan-mixture", "--r1-gamma", "-1"], "r1_gamma must be at least 0"),
    (["gan-eigen", "--stationary-ratio", "1"], "stationary_ratio must be in (0, 1)"),
    (["selu-training", "--width", "-3"], "width must be at least 0"),
    (["ad-jacobian", "--log2-product", "40"], "log2_product must be in [2, 26]"),
    (["ad-jacobian", "--log2-n-range", "6", "3"], "log2_n_range must hold 3 or more points"),
    # counts, sizes and widths: zero, negative, empty
    (["mnist1d-baselines", "--seeds", "0"], "seeds must be at least 1"),
    (["mnist1d-baselines", "--seed", "-1"], "seed must be at least 0"),
    (["prune-lottery", "--mlp-widths", "-5", "3"], "mlp_widths must be at least 1 each"),
    (["prune-rethink", "--cnn-channels", "16", "0", "16"], "cnn_channels must be at least 1 each"),
    (["prune-lottery", "--mlp-widths"], "mlp_widths needs at least one value"),
    (["ad-cost", "--mlp-sizes", "128", "-1"], "mlp_sizes must be at least 1 each"),
    (["ad-hvp", "--cookbook-shape", "0", "4"], "cookbook_shape must be at least 1 each"),
    (["bbb-variance", "--batch-sizes", "8", "8"], "batch_sizes repeats a value"),
    (["bbb-classify", "--kl-scales", "0.1", "0.1"], "kl_scales repeats a value"),
    (["bbb-classify", "--kl-scales"], "kl_scales needs at least one value"),
    (["bbb-variance", "--batch-sizes", "8"], "batch_sizes needs two or more sizes"),
    (["gan-mixture", "--unroll-steps", "0"], "unroll_steps must be at least 1"),
    (["selu-constants", "--dropout-rates"], "dropout_rates needs at least one value"),
    # a repeated entry would train or measure one thing twice under one name
    (["selu-training", "--depths", "8", "8"], "depths repeats a value"),
    (["gan-mixture", "--methods", "gan", "gan"], "methods repeats a value"),
    (["prune-rethink", "--sparsities", "0.5", "0.5"], "sparsities repeats a value"),
])
def test_out_of_range_values(argv, expect, capsys, tmp_path, monkeypatch):
    check_refused(argv, capsys, tmp_path, monkeypatch, expect)


@pytest.mark.parametrize("argv,expect", [
    (["bbb-regression", "--prior", "scale-mixture", "--prior-sigma", "0.5"],
     "--prior-sigma does nothing here: the scale-mixture prior"),
    (["prune-lottery", "--cnn-channels", "8", "8"], "--cnn-channels does nothing here: --model mlp"),
    (["prune-lottery", "--model", "cnn", "--mlp-widths", "50"], "--mlp-widths does nothing here: --model cnn"),
    (["prune-rethink", "--models", "cnn", "--mlp-widths", "50"], "--mlp-widths does nothing here"),
    (["prune-rethink", "--models", "mlp", "--cnn-kernel", "3"], "--cnn-kernel does nothing here"),
    (["gan-mixture", "--methods", "gan", "nsgan", "--gp-weight", "5"], "--gp-weight does nothing here"),
    (["gan-mixture", "--methods", "gan", "--unroll-steps", "3"], "--unroll-steps does nothing here"),
    (["gan-mixture", "--hop-steps", "0", "--hop-seeds", "3"], "--hop-seeds does nothing here"),
])
def test_options_the_setting_ignores(argv, expect, capsys, tmp_path, monkeypatch):
    check_refused(argv, capsys, tmp_path, monkeypatch, expect)


def test_an_option_equal_to_the_preset_is_not_an_error():
    """Only a changed value counts as given: the preset's own prior_sigma stays harmless."""
    module = REGISTRY["bbb-regression"]
    config, _ = parse(module, ["--prior", "scale-mixture", "--prior-sigma", "1.0"])
    assert config.prior == "scale-mixture"


@pytest.mark.parametrize("argv,expect", [
    (["mnist1d-baselines", "--batch-size", "4001"], "batch_size (4001) exceeds the 4000 training examples of mnist1d"),
    (["ad-forward-gradient", "--batch-size", "5000"], "batch_size + validation (5800) exceeds the 4000 training"),
    (["ad-forward-gradient", "--batch-size", "3500"], "batch_size + validation (4300) exceeds the 4000 training"),
    (["bbb-variance", "--batch-sizes", "4", "8", "4096"], "the largest of batch_sizes (4096) exceeds"),
    (["selu-training", "--batch-size", "10000"], "batch_size (10000) exceeds"),
    (["prune-rethink", "--batch-size", "4096"], "batch_size (4096) exceeds"),
])
def test_sizes_larger_than_the_training_set(argv, expect, capsys, tmp_path, monkeypatch):
    check_refused(argv, capsys, tmp_path, monkeypatch, expect)


@pytest.mark.parametrize("argv,expect", [
    (["mnist1d-baselines", "--data-dir", "."], "this config reads mnist1d, which needs no files"),
    (["gan-dirac", "--data-dir", "."], "this config reads no data set"),
    (["ad-forward-gradient", "--data-dir", "."], "reads mnist1d"),
    (["list", "--unknown"], "list: unrecognized arguments: --unknown"),
])
def test_options_that_do_nothing_elsewhere(argv, expect, capsys, tmp_path, monkeypatch):
    check_refused(argv, capsys, tmp_path, monkeypatch, expect)


def test_every_preset_passes_its_own_checks():
    for module in REGISTRY.values():
        for preset in module.PRESETS.values():
            dataclasses.replace(preset)
            if hasattr(preset, "unused_fields"):
                assert isinstance(preset.unused_fields(), dict)
