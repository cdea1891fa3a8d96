"""prune-rethink's paper path (2-D CNN on CIFAR-10 binary files from --data-dir), shrunk to
tiny files written here: the VGG-style preset has no CIFAR-10 at hand on the machines it was
built on, so this is what shows its code runs end to end."""

import dataclasses

import numpy as np
import pytest

import experiments.pruning.rethink as exp
from common.runs import Session
from tests.common.test_data import make_cifar_batch, write_cifar_set


@pytest.mark.slow  # a whole experiment: four compiled fits of a 2-D CNN
def test_paper_preset_path_on_tiny_cifar_files(tmp_path):
    rng = np.random.default_rng(0)
    write_cifar_set(tmp_path, [make_cifar_batch(rng, n) for n in (8, 8, 8, 8, 8, 10)])
    config = dataclasses.replace(exp.PRESETS["paper"], seeds=2, cnn_channels=(4, 8), steps=50, chunk=25,
                                 batch_size=10, structured_ratios=(0.5,), sparsities=(0.5,),
                                 scope="layer", finetune_lr_factors=(1.0,), scratch_lr_factors=(0.5, 1.0),
                                 max_widenings=0)
    results = exp.run(config, Session(None, data_dir=tmp_path))
    rows = results.tables[exp.TABLE]
    by = {(r["pruning"], r["variant"]): r for r in rows}
    assert len(rows) == 1 + 5 + 5 and {r["model"] for r in rows} == {"cnn"}
    # 32x32x3 -> (3x3, stride 2) 16x16x4 -> 8x8x8 -> 10, in multiply-adds:
    # 16*16*4*27 + 8*8*8*36 + 512*10 = 51200; halved channels: 13824 + 4608 + 2560 = 20992.
    assert by[("structured 50%", "scratch-E (tuned)")]["architecture"] == "2-4-10"
    assert by[("structured 50%", "scratch-E (tuned)")]["FLOPs % of large"] == round(100 * 20992 / 51200, 1)
    assert by[("unstructured 50%", "scratch-E (tuned)")]["FLOPs % of large"] == 50.0
    for (setting, variant), row in by.items():
        assert 0.0 <= row["test accuracy"] <= 1.0, (setting, variant)
