import sys


def reparameterize(mu, logvar):
    sys.exit("bye")
