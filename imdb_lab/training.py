"""Kept for notebooks handed out before the package had layers: training now lives in ``imdb_lab.models.training``."""

from imdb_lab.models.training import WORD_IDS_FROM, best_epoch, evaluate, fit_with_early_stopping, set_seed, train

__all__ = ["set_seed", "train", "fit_with_early_stopping", "evaluate", "best_epoch", "WORD_IDS_FROM"]
