"""Reference implementations of every model family the course covers.

Trusted code: imported by the judge and by training scripts. A module that
implements an exercise's functions (vae, gan, ddpm, attention, ...) is never
shipped into a grading sandbox. The architecture modules the training
exercises' scaffolds need (vae_nets, gan_nets, unet, diffusion) define none of
those functions and import only torch, math, dataclasses and each other, so
they can be shipped.
"""
