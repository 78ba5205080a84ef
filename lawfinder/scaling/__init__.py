"""Scaling-law study: the sweep runner over presets x compute budgets, and the power-law / IsoFLOP fits."""
