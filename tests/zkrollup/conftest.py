"""Shared fixtures for the rollup's node, L1 and CLI tests: one small circuit shape, its circuit and key made
once per test session in a session cache folder, and fresh data directories built from it."""

import os
import shutil

import pytest

from circuits.rollup.layout import Layout

#: Small enough to set up in seconds, big enough to have every kind of slot: 2^4 accounts in a 4-ary tree,
#: 2 transfer slots and 1 registration slot, the evaluation-claim binding.
SMALL = Layout(depth=4, arity=4, n_transfers=2, n_registrations=1, binding="evaluation")


@pytest.fixture(scope="session")
def key_cache(tmp_path_factory):
    """A session-wide ZKROLLUP_CACHE, so each circuit shape is built and set up once per test run."""
    folder = tmp_path_factory.mktemp("zkrollup-cache")
    old = os.environ.get("ZKROLLUP_CACHE")
    os.environ["ZKROLLUP_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("ZKROLLUP_CACHE", None)
    else:
        os.environ["ZKROLLUP_CACHE"] = old


@pytest.fixture(scope="session")
def genesis_template(key_cache, tmp_path_factory):
    """A data directory right after `init` with SMALL (accounts 2, 3, 4 funded with 1,000,000; fee account 1)."""
    from zkrollup.node import RollupNode

    folder = tmp_path_factory.mktemp("genesis") / "data"
    RollupNode.init(folder, SMALL, accounts=3, balance=1_000_000).close()
    return folder


@pytest.fixture
def data_dir(genesis_template, tmp_path):
    """A private copy of the genesis data directory for one test."""
    target = tmp_path / "data"
    shutil.copytree(genesis_template, target)
    return target


@pytest.fixture
def node(data_dir):
    from zkrollup.node import RollupNode

    with RollupNode.open(data_dir) as opened:
        yield opened
