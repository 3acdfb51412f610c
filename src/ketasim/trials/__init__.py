"""Virtual trials: specs, designs, endpoints, replicate trials and their analysis."""

from ketasim.trials.runner import TrialResult, run_trial
from ketasim.trials.spec import TrialSpec

__all__ = ["TrialResult", "TrialSpec", "run_trial"]
