"""The reviews: read from the raw archive (or Keras's download), cached, and handed out exactly as Keras does.

In the order the data flows: ``tokenizer`` (the classic Keras tokenizer rule)
-> ``archive`` (reading and encoding the raw archive) -> ``cache`` (its
checksummed cache) -> ``sources`` (finding the data, or Keras's download) ->
``loading`` (``load_data`` / ``load_flat``). ``reviews`` holds the reviews as
NumPy arrays and Keras's rules on word indices; ``text`` encodes and decodes
single reviews. NumPy only: nothing here imports Keras until Keras's own
download is asked for.
"""

from imdb_lab.data.loading import flat_splits, load_data, load_flat

__all__ = ["load_data", "load_flat", "flat_splits"]
