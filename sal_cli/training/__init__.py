"""PRM training (stepwise supervision on TRL's `PRMTrainer`) and ProcessBench evaluation.

Nothing here is imported by the CLI at start-up: torch, transformers and peft load inside
the functions that need them.
"""
