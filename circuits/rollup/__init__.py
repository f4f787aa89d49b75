"""The rollup's circuit side: the layout every part reads (`layout`), the account tree of arity 2 or 4
(`tree`), and the transfer-batch circuit (`batch`)."""
