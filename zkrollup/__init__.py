"""The rollup: accounts, transfers, state tree, batch executor, sequencer, CLI."""
