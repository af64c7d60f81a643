"""Data preprocessors of mmcsre."""
from .skeleton_data_preprocessor import STREAMS, SkeletonDataPreprocessor

__all__ = ['STREAMS', 'SkeletonDataPreprocessor']
