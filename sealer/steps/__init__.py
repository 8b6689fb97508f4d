"""Turn a plan into the engine's steps: one module per step kind, and the graph builder."""
