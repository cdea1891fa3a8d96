"""gan-mixture's sweeps: the plain GAN against lr_D / lr_G (two time scales) and R1 against its gamma."""

from typing import NamedTuple

from research.gan.methods import recipe


class GridPoint(NamedTuple):
    """A point of the lr_D / lr_G or gamma grid: the method, the axis, its name in keys and fits, the value, the recipe."""

    method: str
    axis: str
    name: str
    value: float
    recipe: object


def grid_points(config) -> list[GridPoint]:
    """The plain GAN against lr_D / lr_G and R1 against gamma, each at the config's other values."""
    gan, r1 = recipe("gan", config), recipe("r1", config)
    return ([GridPoint("gan", "lr_D / lr_G", f"ratio/{r:g}", r, gan._replace(lr_d=config.lr_g * r)) for r in config.lr_ratios]
            + [GridPoint("r1", "R1 gamma", f"gamma/{g:g}", g, r1._replace(strength=g)) for g in config.r1_gammas])
