"""The code that runs inside the sandbox next to the student's module.

It depends on the standard library, torch and safetensors only, and imports
nothing from the rest of `grader`: the image ships this package alone.
"""
