"""What JAX already tells you about the cost of a derivative, on the scanned RNN of
docs/autodiff_tool_example.py: the numbers of the section "Against what JAX gives you"
in docs/autodiff_tool.md.

    PYTHONPATH=. python docs/autodiff_builtins.py

prints, for f = rnn_loss and for its gradient, XLA's `cost_analysis()` (FLOPs, bytes
accessed) and `memory_analysis()` (argument, output, temporary bytes) of the compiled
program, and `jax.ad_checkpoint.print_saved_residuals` (what reverse mode keeps).
"""

import jax
from jax.ad_checkpoint import print_saved_residuals

from docs.autodiff_tool_example import rnn_loss

MIB = 2**20


def inputs() -> tuple[jax.Array, jax.Array, jax.Array]:
    """The command line's inputs for `--args 'f32[128,128]' 'f32[32,128]' 'f32[64,256,32]'`."""
    k_h, k_x, k_s = jax.random.split(jax.random.key(0), 3)
    return (
        jax.random.normal(k_h, (128, 128)) / 16,
        jax.random.normal(k_x, (32, 128)) / 8,
        jax.random.normal(k_s, (64, 256, 32)),
    )


def compiled_costs(name: str, fn, args) -> None:
    """One line per compiled program: XLA's own cost and memory analyses."""
    compiled = jax.jit(fn).lower(*args).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost  # a list of one dict in older jax
    memory = compiled.memory_analysis()
    print(
        f"{name}: cost_analysis flops {cost['flops'] / 1e6:.2f} MFLOP, bytes accessed "
        f"{cost['bytes accessed'] / 1e6:.2f} MB; memory_analysis arguments "
        f"{memory.argument_size_in_bytes / MIB:.3f} MiB, outputs {memory.output_size_in_bytes / MIB:.4f} MiB, "
        f"temp {memory.temp_size_in_bytes / MIB:.3f} MiB"
    )


def main() -> None:
    args = inputs()
    compiled_costs("f", rnn_loss, args)
    compiled_costs("grad (w_h, w_x)", jax.grad(rnn_loss, argnums=(0, 1)), args)
    print("print_saved_residuals(rnn_loss, ...):")
    print_saved_residuals(rnn_loss, *args)
    total = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(jax.vjp(rnn_loss, *args)[1]))
    print(f"residuals in total (the leaves of jax.vjp's pullback): {total / MIB:.2f} MiB")


if __name__ == "__main__":
    main()
