"""Sample-quality metrics: Fréchet distance, KID, feature extractors, reference statistics.

Scores use the extractor's label, by default "FID (Fashion-MNIST features)".
"""
from grader.metrics.features import FeatureExtractor, fashion_extractor
from grader.metrics.frechet import GaussianStats, frechet_distance, frechet_distance_stats
from grader.metrics.kid import kernel_distance, mmd2_unbiased
from grader.metrics.leaderboard import (
    GeneratedScore,
    MemorisationResult,
    MemorisationThresholds,
    memorisation_check,
    score_generated,
    score_part,
)
from grader.metrics.score import SampleScore, score_samples

__all__ = [
    "FeatureExtractor",
    "GaussianStats",
    "GeneratedScore",
    "MemorisationResult",
    "MemorisationThresholds",
    "SampleScore",
    "fashion_extractor",
    "frechet_distance",
    "frechet_distance_stats",
    "kernel_distance",
    "memorisation_check",
    "mmd2_unbiased",
    "score_generated",
    "score_part",
    "score_samples",
]
