"""Analysis of trained models and their test results: per-class accuracy,
difficulty levels, confusion, feature embeddings, model complexity, training
consumption and paired comparisons of arms over seeds (``tools/analysis/``).

Plots and t-SNE need the optional analysis requirements
(``requirements/analysis.txt``); everything else needs only the runtime ones.
"""
from .complexity import model_complexity
from .confusion import (ambiguous_groups, confusion_matrix, row_normalize,
                        top_confused_pairs)
from .consumption import measure_in_subprocess, measure_training
from .difficulty import difficulty_levels, level_accuracy, level_names
from .dumps import load_dump, load_runs, predictions
from .embedding import align_features, select_samples, tsne
from .errors import AnalysisError
from .features import extract_features, load_features, save_features
from .label_maps import LABEL_MAPS, class_names, load_label_map
from .optional import MissingDependencyError, require
from .paired import (ArmScores, PairedComparison, bootstrap_ci, compare_arms,
                     detectable_effect, load_arms, mcnemar_exact, paired_power,
                     paired_t, seeds_needed)
from .per_class import accuracy_changes, group_accuracy, per_class_accuracy
from .tables import markdown_table, write_tables

__all__ = [
    'AnalysisError', 'MissingDependencyError', 'require', 'LABEL_MAPS',
    'class_names', 'load_label_map', 'load_dump', 'load_runs', 'predictions',
    'per_class_accuracy', 'accuracy_changes', 'group_accuracy',
    'difficulty_levels', 'level_accuracy', 'level_names', 'confusion_matrix',
    'row_normalize', 'top_confused_pairs', 'ambiguous_groups',
    'extract_features', 'save_features', 'load_features', 'select_samples',
    'align_features', 'tsne', 'model_complexity', 'measure_training',
    'measure_in_subprocess', 'markdown_table', 'write_tables', 'ArmScores',
    'PairedComparison', 'load_arms', 'compare_arms', 'paired_t',
    'bootstrap_ci', 'mcnemar_exact', 'paired_power', 'seeds_needed',
    'detectable_effect'
]
