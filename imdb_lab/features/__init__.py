"""What a model reads: reviews turned into features, and the Keras feeds that hand them out one batch at a time.

``multi_hot`` (the 0/1 rows of the lab's Dense model), ``word_ids`` (the same
rows as each review's distinct word ids) and ``ngrams`` (n-gram ids and
naive-Bayes ratios) are NumPy only; ``feeds`` holds one Keras ``PyDataset``
per kind and imports Keras.
"""
