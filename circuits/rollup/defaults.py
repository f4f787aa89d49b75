"""The default batch-circuit shape, in a module with no imports so that the CLI can show it in --help without
loading the circuit code. `circuits.rollup.layout.Layout` takes its field defaults from here."""

DEPTH = 20            # 2^20 accounts
ARITY = 4             # one Poseidon(4) per two index bits
TRANSFERS = 4         # transfer slots per batch
REGISTRATIONS = 2     # registration slots per batch
BINDING = "evaluation"
