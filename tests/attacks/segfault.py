import ctypes


def reparameterize(mu, logvar):
    return ctypes.string_at(0)
