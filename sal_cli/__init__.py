"""sal: scale LLM test-time compute on math problems (sampling, PRM-guided search, grading)."""

__version__ = "0.1.0"
