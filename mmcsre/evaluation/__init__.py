from .dump_scores import SCORE_SPACES, DumpSkeletonScores

__all__ = ['DumpSkeletonScores', 'SCORE_SPACES']
