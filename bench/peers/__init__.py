"""Our engine beside Cedar and OPA: the access policy translated into each, and `python -m bench.peers`.

access.cedar and access.rego (with decide.rego) are hand-written translations of policies/rules/20-access.yaml
and 30-denials.yaml; tests/test_peers.py holds all three to the same decisions.
"""

# Its modules are its surface: the package itself exports nothing.
__all__: list[str] = []
