"""Offline evaluation: the project's eval set (`python -m eval`) and JSQuAD (`python -m eval jsquad`)."""
