"""Batched integration of ketasim's ODE systems over many patients at once."""

from ketasim.engine.solve import Breakpoint, LinearSystem, OdeSystem, SolveOptions, integrate

__all__ = ["Breakpoint", "LinearSystem", "OdeSystem", "SolveOptions", "integrate"]
