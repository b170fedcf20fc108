"""Kept for notebooks handed out before the package had layers: the word-id twin now lives in ``imdb_lab.models.twin``,
its features in ``imdb_lab.features.word_ids`` and its feed in ``imdb_lab.features.feeds``."""

from imdb_lab.features.feeds import PackedWordIds, word_id_feed
from imdb_lab.features.word_ids import WIDTH_MULTIPLE, distinct_word_ids, pack_word_ids, packed_width
from imdb_lab.models.twin import can_twin, sum_by_review, twin_of, word_id_twin

__all__ = ["can_twin", "word_id_twin", "twin_of", "word_id_feed", "PackedWordIds", "distinct_word_ids",
           "pack_word_ids", "packed_width", "sum_by_review", "WIDTH_MULTIPLE"]
