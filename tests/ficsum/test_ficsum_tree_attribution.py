"""FI (Saabas-style path attribution) against a hand-computed path, and the split stamp that drives
re-computation of cached contributions."""

import numpy as np
import pytest
from river import tree
from river.tree.nodes.branch import DTBranch

from reprobook.ficsum.metafeatures import path_contributions, tree_version


def _trained_tree():
    # class 0 iff a < 0.5, except that b < 0.5 flips a third of the a >= 0.5 half: a then b split
    rng = np.random.default_rng(0)
    model = tree.HoeffdingTreeClassifier(grace_period=50, delta=1e-3)
    versions = [tree_version(model)]
    for _ in range(6000):
        a, b = rng.random(), rng.random()
        y = 0 if a < 0.5 else (0 if b < 0.33 else 1)
        model.learn_one({"a": a, "b": b}, y)
        versions.append(tree_version(model))
    return model, versions


def test_attribution_matches_the_hand_computed_path():
    model, _ = _trained_tree()
    root = model._root
    assert isinstance(root, DTBranch), "the tree must have split for this test"
    x = {"a": 0.9, "b": 0.1}

    def p0(stats):
        return stats.get(0, 0.0) / sum(stats.values())

    expected = {"a": 0.0, "b": 0.0}
    node = root
    while isinstance(node, DTBranch):
        child = node.next(x)
        expected[node.feature] += abs(p0(child.stats) - p0(node.stats))
        node = child
    ours = path_contributions(model, x, {"a": 0, "b": 1}, 0)
    assert ours.tolist() == pytest.approx([expected["a"], expected["b"]])
    assert ours[0] > 0  # the root split on a moves P(class 0) for this x
    # hand-computed from the root's and its child's class counts for the first step
    root_child = root.next(x)
    assert root.feature == "a"
    first_step = abs(p0(root_child.stats) - p0(root.stats))
    assert ours[0] >= first_step - 1e-12


def test_an_unsplit_tree_attributes_nothing_and_the_split_stamp_moves_on_each_split():
    assert path_contributions(tree.HoeffdingTreeClassifier(), {"a": 1.0}, {"a": 0}, 0).tolist() == [0.0]
    _, versions = _trained_tree()
    changes = int(np.count_nonzero(np.diff(versions)))
    assert versions[0] == 0 and changes >= 1
    assert all(later >= earlier for earlier, later in zip(versions, versions[1:], strict=False))
