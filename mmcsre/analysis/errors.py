"""The error the analysis tools raise for inputs they cannot analyse."""


class AnalysisError(ValueError):
    """Bad or mismatched analysis input (dumps, feature files, label maps,
    configs); the command-line tools print it and exit with status 2."""
