"""Calibration: fitting the clinical-link parameters to the review's tables, with provenance."""
