"""Reference implementations of every model family the course covers.

Trusted code: imported by the judge and by training scripts, never shipped into
a grading sandbox for the exercise whose function it implements.
"""
