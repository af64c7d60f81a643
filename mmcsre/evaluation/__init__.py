# backbone_features (k-NN feature extraction) is imported by tools only: it
# needs mmcsre.analysis, which `import mmcsre` does not load.
from .dump_scores import SCORE_SPACES, DumpSkeletonScores
from .knn import knn_accuracy, knn_predict, knn_scores

__all__ = [
    'DumpSkeletonScores', 'SCORE_SPACES', 'knn_accuracy', 'knn_predict',
    'knn_scores'
]
