"""IMP rounds: exact sparsity schedule, nested masks, rewound tickets and their controls."""

import jax
import jax.numpy as jnp
import numpy as np

from research.pruning.lottery import imp_sparsities, imp_step, random_pruning, random_reinit
from research.pruning.masks import n_pruned, pruned_counts


def _params(seed, sizes=(40, 64, 32, 10)):
    rng = np.random.default_rng(seed)
    return [{"w": jnp.asarray(rng.normal(size=(a, b)), jnp.float32), "b": jnp.zeros(b)}
            for a, b in zip(sizes[:-1], sizes[1:])]


def test_schedule_closed_form():
    s = imp_sparsities(0.2, 14)
    np.testing.assert_allclose(s[0], 0.2)
    np.testing.assert_allclose(s[-1], 1 - 0.8**14)  # 95.6%: "to 95% or more"
    assert all(b > a for a, b in zip(s, s[1:]))


def test_imp_rounds_nested_exact_and_rewound():
    init, sizes = _params(0), [40 * 64, 64 * 32, 32 * 10]
    step = jax.jit(lambda *args: imp_step(*args, "layer"))  # counts traced: one program for every round
    masks = jax.tree.map(lambda p: jnp.ones(p.shape, bool), init)
    trained = init
    for r, s in enumerate(imp_sparsities(0.5, 4)):
        # A stand-in for training: a different weight draw each round.
        trained = [dict(layer, w=w) for layer, w in
                   zip(trained, [fresh["w"] for fresh in _params(r + 1)])]
        new_masks, ticket = step(trained, init, masks, np.array(pruned_counts(init, s)))
        for old, new in zip(masks, new_masks):
            assert not np.any(np.asarray(new["w"]) & ~np.asarray(old["w"]))  # nested
        assert [int((~np.asarray(m["w"])).sum()) for m in new_masks] == [n_pruned(s, n) for n in sizes]
        for t, i, m in zip(ticket, init, new_masks):
            w_t, w_i, m_w = (np.asarray(a) for a in (t["w"], i["w"], m["w"]))
            np.testing.assert_array_equal(w_t[m_w], w_i[m_w])  # survivors rewound to init
            assert np.all(w_t[~m_w] == 0.0)
        masks = new_masks
    assert step._cache_size() == 1


def test_controls_share_the_ticket_sparsity_but_not_its_weights_or_positions():
    init = _params(0)

    @jax.jit
    def tickets(init, trained, fresh):
        masks, ticket = imp_step(trained, init, None, pruned_counts(init, 0.8, "global"), "global")
        shuffled, rand_ticket = random_pruning(jax.random.key(0), init, masks)
        return masks, ticket, random_reinit(fresh, masks), shuffled, rand_ticket

    masks, ticket, reinit, shuffled, rand_ticket = tickets(init, _params(1), _params(2))
    for m, r, s, t, rt in zip(masks, reinit, shuffled, ticket, rand_ticket):
        m_w = np.asarray(m["w"])
        assert np.all(np.asarray(r["w"])[~m_w] == 0.0)
        assert not np.allclose(np.asarray(r["w"])[m_w], np.asarray(t["w"])[m_w])
        assert np.asarray(s["w"]).sum() == m_w.sum()
        assert not np.array_equal(np.asarray(s["w"]), m_w)
        assert np.sum(np.asarray(rt["w"]) != 0) == m_w.sum()
