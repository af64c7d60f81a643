from .multi_stream_recognizer import MultiStreamRecognizer

__all__ = ['MultiStreamRecognizer']
