"""The models and what is done with them: build, train, evaluate, save, predict, plot.

``dense`` (the lab's reference network) and ``twin`` (the same network read
from word ids), ``ngram`` (the going-further NBSVM model), ``training`` (seeding
and the one fit loop), ``outputs`` (what a classifier's output means) and
``evaluation`` (the one accuracy and the target), ``saving``, ``predicting``
and ``plotting``. Keras is imported where a model is built or run, once the
backend is chosen.
"""
