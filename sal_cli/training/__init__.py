"""PRM training (stepwise supervision on `transformers.Trainer`) and ProcessBench evaluation.

Nothing here is imported by the CLI at start-up: torch, transformers and peft load inside
the functions that need them.
"""
